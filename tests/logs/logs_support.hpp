// SPDX-License-Identifier: ISC
#pragma once
// What the log tests share: reading a log file as lines, one FastCGI request with extra
// parameters, and an fcgimux whose own log goes to a file (so its "listening on" line is there,
// not on stderr).

#include "tests/support/cgi_response.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fcgi_client.hpp"
#include "tests/support/temp_dir.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace fcgimux::test {

/// The lines of `path` without their '\n' (a last line without one is left out: not written yet).
std::vector<std::string> file_lines(const std::string& path);
/// Waits until `path` has at least `n` lines; returns them (fewer on timeout).
std::vector<std::string> wait_for_lines(const std::string& path, std::size_t n,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// `text` as a regular expression that matches only itself.
std::string literally(const std::string& text);

/// One request on a fresh connection: `method uri` with cgi_params(), `extra` params added (or
/// replacing those of the same name), and `body`.
struct answer {
  read_status how = read_status::timeout;
  cgi_response response;
};
answer send_request(std::uint16_t port, const std::string& method, const std::string& uri,
                    const fcgi_params& extra = {}, const std::string& body = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// `fcgimux --listen 127.0.0.1:0 --stats off ARGS -- COMMAND` (optionally behind `prefix`, e.g.
/// unshare), started once what it logged says where its pool listens.
class logged_fcgimux {
 public:
  struct options {
    std::vector<std::string> args;
    std::vector<std::string> command;
    std::vector<std::string> env;
    std::vector<std::string> prefix;  ///< run as PREFIX... fcgimux ARGS
    std::string error_log;            ///< the --error-log file to read the port from; empty: stderr
    bool listen = true;               ///< pass --listen 127.0.0.1:0 (not with a pools file)
    std::string pool = "default";     ///< the pool whose port port() is
  };
  explicit logged_fcgimux(const options& o);

  std::uint16_t port() const noexcept { return port_; }
  child_process& process() noexcept { return process_; }
  std::string stderr_text() const { return process_.stderr_text(); }
  std::string stdout_text() const;
  /// SIGTERM, then waits for the exit; its status.
  exit_status stop();

 private:
  temp_dir dir_;
  child_process process_;
  std::uint16_t port_ = 0;
};

}  // namespace fcgimux::test
