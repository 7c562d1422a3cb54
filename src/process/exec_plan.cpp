// SPDX-License-Identifier: ISC
#include "src/process/exec_plan.hpp"

#include <algorithm>
#include <string_view>

namespace fcgimux {
namespace {

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string_view name_of(std::string_view entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

std::vector<std::string> worker_environment(char* const* parent, const env_rules& rules) {
  std::vector<std::string> out;
  for (char* const* e = parent; e && *e; ++e) {
    const std::string_view name = name_of(*e);
    // PATH stays when the rest goes: a worker without it cannot run what it relies on finding
    // (php's exec(), a CGI script's commands), and it tells nothing about the host's secrets.
    if (rules.clear && name != "PATH" && std::find(rules.pass.begin(), rules.pass.end(), name) == rules.pass.end())
      continue;
    if (std::any_of(rules.set.begin(), rules.set.end(), [name](auto& kv) { return kv.first == name; })) continue;
    out.emplace_back(*e);
  }
  for (const auto& [name, value] : rules.set) out.push_back(name + "=" + value);
  return out;
}

std::vector<std::string> program_candidates(const std::string& program, const std::string* path) {
  if (program.find('/') != std::string::npos) return {program};
  const std::string_view dirs = path ? std::string_view(*path) : std::string_view("/bin:/usr/bin");
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t colon = dirs.find(':', start);
    const std::string_view dir = dirs.substr(start, colon == std::string_view::npos ? colon : colon - start);
    // An empty entry is the working directory, as execvp takes it.
    out.push_back(dir.empty() ? program : std::string(dir) + (dir.back() == '/' ? "" : "/") + program);
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return out;
}

exec_plan::exec_plan(const std::vector<std::string>& argv, std::vector<std::string> envp)
    : args_(argv), env_(std::move(envp)) {
  const std::string* path = nullptr;
  for (const auto& e : env_)
    if (name_of(e) == "PATH") path = &e;
  std::string path_value;
  if (path) path_value = path->substr(5);
  paths_ = program_candidates(args_.empty() ? std::string() : args_.front(), path ? &path_value : nullptr);
  argv_ = pointers(args_);
  envp_ = pointers(env_);
  candidates_ = pointers(paths_);
  script_argv_.push_back(shell_.data());
  script_argv_.push_back(nullptr);  // the slot
  for (std::size_t i = 1; i < args_.size(); ++i) script_argv_.push_back(args_[i].data());
  script_argv_.push_back(nullptr);
}

}  // namespace fcgimux
