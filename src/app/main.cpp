// fcgimux: a FastCGI proxy and process manager.

#include "src/app/server.hpp"
#include "src/base/log.hpp"
#include "src/config/config.hpp"

#include <fmt/core.h>

#include <sys/resource.h>

#include <exception>

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
    fmt::print("{}", fcgimux::usage_text());
    return 0;
  }
  if (cfg.show_version) {
    fmt::print("fcgimux {}\n", FCGIMUX_VERSION);
    return 0;
  }
  fcgimux::log::verbose_enabled = cfg.verbose;
  try {
    fcgimux::log::configure(cfg.error_log);
  } catch (const std::exception& e) {
    fmt::print(stderr, "fcgimux: error: error-log: {}\n", e.what());
    return 1;
  }
  raise_fd_limit();
  try {
    asio::io_context io(1);
    // SIGHUP reads the same command line (and so the same -c file) again.
    fcgimux::server srv(io, std::move(cfg), [argc, argv] { return fcgimux::parse_config(argc, argv); });
    srv.start();
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
