// SPDX-License-Identifier: ISC
#include "tests/support/fcgimux_instance.hpp"

#include "tests/support/paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace fcgimux::test {

std::uint16_t find_listening_port(const std::string& text, const std::string& prefix) {
  auto at = text.find(prefix);
  if (at == std::string::npos) return 0;
  std::size_t p = at + prefix.size();
  std::size_t end = p;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  if (end == p) return 0;
  long v = std::strtol(text.substr(p, end - p).c_str(), nullptr, 10);
  return v > 0 && v < 65536 ? static_cast<std::uint16_t>(v) : 0;
}

std::vector<std::string> root_user_args(const std::vector<std::string>& args) {
  if (::geteuid() != 0) return {};
  for (const auto& a : args) {
    if (a == "--") break;
    if (a == "--user" || a.rfind("--user=", 0) == 0) return {};
  }
  return {"--user", "root"};
}

namespace {

// fcgimux's default stats address is a fixed port (127.0.0.1:9001): two tests that both left it out
// and ran at once would have the second fail to start. A test that names no stats address (by flag or
// in a file it passes) gets a port of its own.
bool names_stats(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") break;
    for (const char* flag : {"--stats", "-c", "--config", "--php-fpm-config"})
      if (a == flag || a.rfind(std::string(flag) + "=", 0) == 0) return true;
  }
  return false;
}

}  // namespace

fcgimux_instance::fcgimux_instance(const fcgimux_options& options) : dir_("fcgimux-daemon") {
  spawn_options s;
  s.argv = {options.binary.empty() ? std::string(fcgimux_bin) : options.binary};
  if (options.root_workers)
    for (auto& a : root_user_args(options.args)) s.argv.push_back(a);
  if (options.listen_tcp) {
    s.argv.push_back("--listen");
    s.argv.push_back("127.0.0.1:0");
  }
  if (!names_stats(options.args)) {
    s.argv.push_back("--stats");
    s.argv.push_back("127.0.0.1:0");
  }
  s.argv.insert(s.argv.end(), options.args.begin(), options.args.end());
  if (!options.command.empty()) {
    s.argv.push_back("--");
    s.argv.insert(s.argv.end(), options.command.begin(), options.command.end());
  }
  s.env = options.env;
  s.stderr_path = dir_.file("fcgimux.stderr");
  process_ = child_process(s);

  auto deadline = std::chrono::steady_clock::now() + options.startup_timeout;
  for (;;) {
    std::string text = process_.stderr_text();
    port_ = find_listening_port(text, "listening on 127.0.0.1:");
    stats_port_ = find_listening_port(text, "stats on 127.0.0.1:");
    if (port_ != 0 || !options.listen_tcp) break;
    if (!process_.running()) throw std::runtime_error("fcgimux exited during start-up; stderr:\n" + text);
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("fcgimux printed no 'listening on 127.0.0.1:PORT'; stderr:\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::uint16_t fcgimux_instance::wait_for_port(const std::string& prefix, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto port = find_listening_port(process_.stderr_text(), prefix)) return port;
    if (std::chrono::steady_clock::now() > deadline) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool fcgimux_instance::wait_for_workers(std::size_t n, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (worker_pids().size() < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

fcgimux_run run_fcgimux(const std::vector<std::string>& args, std::chrono::milliseconds timeout, bool root_workers) {
  temp_dir dir("fcgimux-run");
  spawn_options s;
  s.argv = {fcgimux_bin};
  if (root_workers)
    for (auto& a : root_user_args(args)) s.argv.push_back(a);
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.stderr_path = dir.file("stderr");
  s.stdout_path = dir.file("stdout");
  child_process p(s);
  fcgimux_run r;
  if (auto st = p.wait_exit(timeout)) {
    r.finished = true;
    r.status = *st;
  }
  p.stop();
  r.stderr_text = read_file(dir.file("stderr"));
  r.stdout_text = read_file(dir.file("stdout"));
  return r;
}

}  // namespace fcgimux::test
