// SPDX-License-Identifier: ISC
#pragma once
// nginx in front of several fcgimux instances, as an endpoints controller drives it: its upstream
// is rewritten and `nginx -s reload` run whenever the set of ready members changes. No retry on
// another member (fastcgi_next_upstream off, max_fails=0): a Service's kube-proxy does not retry
// either, so a refused connect reaches the client as the failure it is.

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fcgimux::test {

class nginx_front {
 public:
  /// Starts nginx (master and one worker) with `members` (FastCGI TCP ports) as its upstream.
  explicit nginx_front(const std::vector<std::uint16_t>& members);
  ~nginx_front();
  nginx_front(const nginx_front&) = delete;
  nginx_front& operator=(const nginx_front&) = delete;

  /// Rewrites the upstream to `members` and reloads; true when nginx took the new configuration.
  bool set_members(const std::vector<std::uint16_t>& members);
  /// The HTTP port.
  std::uint16_t port() const noexcept { return port_; }
  /// Its error log (connect failures are logged there).
  std::string error_log() const;

 private:
  void write_config(const std::vector<std::uint16_t>& members);

  temp_dir dir_;
  std::uint16_t port_ = 0;
  child_process process_;
};

}  // namespace fcgimux::test
