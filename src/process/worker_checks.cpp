// SPDX-License-Identifier: ISC
#include "src/process/worker_checks.hpp"

#include "src/process/exec_plan.hpp"

#include <fmt/core.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>

namespace fcgimux {
namespace {

struct user_ids {
  uid_t uid;
  gid_t gid;
  const std::vector<gid_t>& groups;
};

bool may_write(const struct stat& st, const user_ids& who) {
  if (st.st_uid == who.uid) return (st.st_mode & S_IWUSR) != 0;
  if (st.st_gid == who.gid || std::find(who.groups.begin(), who.groups.end(), st.st_gid) != who.groups.end())
    return (st.st_mode & S_IWGRP) != 0;
  return (st.st_mode & S_IWOTH) != 0;
}

// The first of `path` and the directories above it (from `/` down) that `who` could replace or
// change; nothing if none. A sticky directory (/tmp) lets nobody replace an entry of another user.
std::optional<std::string> first_writable(const std::string& given, const user_ids& who) {
  std::string path = std::filesystem::path(given).lexically_normal().string();
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  std::vector<std::string> chain{"/"};
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1))
    chain.push_back(path.substr(0, slash));
  if (path != "/") chain.push_back(path);
  struct stat up {};
  std::string up_path;
  for (const auto& p : chain) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return std::nullopt;  // what is missing fails at exec, loudly
    if (!up_path.empty() && may_write(up, who) && !((up.st_mode & S_ISVTX) && st.st_uid != who.uid)) return up_path;
    up = st;
    up_path = p;
  }
  if (may_write(up, who)) return path;  // the program itself, or the jail's own directory
  return std::nullopt;
}

// The program a worker would run, as the file system holds it now (inside the jail, if any).
std::optional<std::string> program_path(const pool_config& p) {
  const auto env =
      worker_environment(environ, {.clear = p.clear_env, .pass = p.pass_env, .set = p.env});
  std::optional<std::string> path;
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  for (const auto& candidate : program_candidates(p.command.front(), path ? &*path : nullptr)) {
    if (candidate.front() != '/') continue;  // relative to the worker's directory: not checked
    const std::string real = p.chroot + candidate;
    struct stat st {};
    if (::stat(real.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return real;
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> worker_warnings(const pool_config& p) {
  std::vector<std::string> out;
  const worker_credentials& w = p.credentials;
  // Not started as root, fcgimux and its workers are one user: nothing to warn of. Root workers can
  // write everything, and --user root warns of that already.
  if (!w.change || w.uid == 0 || p.command.empty()) return out;
  const uid_t uid = w.uid;
  const gid_t gid = w.gid;
  if (gid == 0 || std::find(w.groups.begin(), w.groups.end(), gid_t{0}) != w.groups.end())
    out.push_back(fmt::format("its workers are in the root group (gid 0): they may read and write what that group "
                              "may, such as root-owned files of mode 0660 or 0770"));
  const user_ids who{uid, gid, w.groups};
  if (!p.chroot.empty())
    if (auto bad = first_writable(p.chroot, who))
      out.push_back(fmt::format("its workers' user {} can write {}: a worker could change its jail {} for the next "
                                "one",
                                w.user_name, *bad, p.chroot));
  if (auto program = program_path(p))
    if (auto bad = first_writable(*program, who))
      out.push_back(fmt::format("its workers' user {} can write {}: a worker could replace the program {} that the "
                                "next worker runs",
                                w.user_name, *bad, *program));
  return out;
}

}  // namespace fcgimux
