// SPDX-License-Identifier: ISC
#pragma once

#include "tests/support/child_process.hpp"
#include "tests/support/net.hpp"
#include "tests/support/temp_dir.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fcgimux::test {

/// How to configure the nginx under test.
struct nginx_options {
  endpoint upstream;       ///< the FastCGI server fastcgi_pass points at
  bool keepalive = false;  ///< upstream {} with keepalive + fastcgi_keep_conn on
  int keepalive_connections = 8;
  std::vector<endpoint> backups;  ///< with keepalive: more servers of the upstream, marked `backup`
  std::string script_filename;    ///< SCRIPT_FILENAME for php-cgi / fcgiwrap; empty: not sent
};

/// A private nginx (single process, temp prefix, error_log to a file) listening on a free
/// 127.0.0.1 port and passing every request to one FastCGI upstream.
class nginx_instance {
 public:
  /// Writes the configuration, starts nginx and waits until it accepts; throws on failure.
  explicit nginx_instance(const nginx_options& options);

  /// The HTTP port.
  std::uint16_t port() const noexcept { return port_; }
  /// Contents of nginx's error log.
  std::string error_log() const;
  /// The generated nginx.conf, for failure messages.
  std::string config() const;
  /// The process.
  child_process& process() noexcept { return process_; }

 private:
  temp_dir dir_;
  std::uint16_t port_ = 0;
  child_process process_;
};

}  // namespace fcgimux::test
