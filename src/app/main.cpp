// SPDX-License-Identifier: ISC
// fcgimux: a FastCGI proxy and process manager.

#include "src/app/daemon.hpp"
#include "src/app/server.hpp"
#include "src/app/upgrade.hpp"
#include "src/base/log.hpp"
#include "src/config/compat.hpp"
#include "src/config/config.hpp"
#include "src/config/program_check.hpp"

#include <fmt/core.h>

#include <sys/resource.h>
#include <unistd.h>

#include <exception>
#include <optional>
#include <string>

namespace {

// Each front connection and each worker uses descriptors; the soft limit is often 1024.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  fcgimux::config cfg;
  try {
    cfg = fcgimux::parse_config(argc, argv);
  } catch (const fcgimux::config_error& e) {
    fmt::print(stderr, "fcgimux: error: {}\n", e.what());
    return 2;
  }
  if (cfg.show_help) {
    fmt::print("{}{}", fcgimux::compat_usage(fcgimux::compat_mode_of(argc > 0 ? argv[0] : "")), fcgimux::usage_text());
    return 0;
  }
  if (cfg.show_version) {
    fmt::print("fcgimux {}\n", FCGIMUX_VERSION);
    return 0;
  }
  // php-fpm's directives that fcgimux does not carry over (--php-fpm-config): one line each.
  if (cfg.print_config || cfg.check_only)
    for (const auto& w : cfg.warnings) fmt::print(stderr, "fcgimux: warning: {}\n", w);
  if (cfg.print_config) {
    fmt::print("{}\n", cfg.printed_config);
    return 0;
  }
  if (cfg.check_only) {
    // As nginx -t: everything parse_config checks, and the programs; no log, socket, worker or pid file.
    try {
      fcgimux::check_programs(cfg);
    } catch (const fcgimux::config_error& e) {
      fmt::print(stderr, "fcgimux: error: {}\n", e.what());
      return 2;
    }
    std::string names;
    for (const auto& p : cfg.pools) names += (names.empty() ? "" : ", ") + p.name;
    fmt::print(stderr, "fcgimux: configuration ok ({} {}: {})\n", cfg.pools.size(),
               cfg.pools.size() == 1 ? "pool" : "pools", names);
    return 0;
  }
  fcgimux::log::verbose_enabled = cfg.verbose;
  try {
    fcgimux::log::configure(cfg.error_log);
  } catch (const std::exception& e) {
    fmt::print(stderr, "fcgimux: error: error-log: {}\n", e.what());
    return 1;
  }
  for (const auto& w : cfg.warnings) fcgimux::log::warning("{}", w);
  raise_fd_limit();
  // Outlives the catch below: the waiting parent exits once the error is on the terminal.
  std::optional<fcgimux::daemon_start> daemon;
  try {
    // Before anything of Asio exists: only the daemon returns (app/daemon.hpp). The process a
    // SIGUSR2 starts is already the old daemon's child, in the background.
    if (cfg.daemon && !fcgimux::started_by_upgrade()) {
      // The parent exits without writing what it queued, and the child of a fork of a process
      // with threads may find their locks taken for good (glibc's syslog lock among them).
      fcgimux::log::suspend();
      daemon.emplace(fcgimux::daemon_start::fork_now());
      fcgimux::log::resume();
    }
    asio::io_context io(1);
    // SIGHUP reads the same command line (and so the same -c file) again, its names looked up off
    // the loop (app/reload.cpp).
    fcgimux::server srv(
        io, std::move(cfg), [argc, argv] { return fcgimux::read_config(argc, argv); },
        fcgimux::current_image(argc, argv));
    srv.start();  // writes the pid file once serving
    if (daemon) {
      fcgimux::log::info("running in the background as pid {}", ::getpid());
      fcgimux::log::suspend();  // every line on the terminal before ready() points stderr at /dev/null
      daemon->ready();
      fcgimux::log::resume();
    }
    io.run();  // returns once a shutdown has stopped every worker
  } catch (const std::exception& e) {
    if (fcgimux::log::destination() == "stderr") {
      fcgimux::log::error("error: {}", e.what());
    } else {
      fcgimux::log::error("{}", e.what());
      // Whoever started it from a terminal sees why, wherever the log goes.
      fmt::print(stderr, "fcgimux: error: {}\n", e.what());
    }
    fcgimux::log::shutdown();
    return 1;
  }
  fcgimux::log::shutdown();  // every queued line (access logs included) is written before exit
  return 0;
}
