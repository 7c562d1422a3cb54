// SPDX-License-Identifier: ISC
#pragma once
// The load every operations test runs while it changes fcgimux under it: clients through nginx,
// each on its own kept connection, alternating POSTs (bodies echoed and compared) and GETs (sizes
// and bytes compared) without pause, so that any lost, cut or misrouted answer shows.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fcgimux::test {

class nginx_load {
 public:
  /// Starts `clients` threads against nginx on 127.0.0.1:`port` (php-cgi's or fcgiwrap's echo script).
  nginx_load(std::uint16_t port, int clients);
  ~nginx_load() { stop(); }
  nginx_load(const nginx_load&) = delete;
  nginx_load& operator=(const nginx_load&) = delete;

  /// Lets every client finish its request and joins them.
  void stop();
  /// Requests answered 200 with the right body so far.
  int ok() const noexcept { return ok_; }
  /// What went wrong, one line per failed request ("POST -> 502 ...").
  std::vector<std::string> failures() const;

 private:
  void client(int t, std::uint16_t port);

  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0};
  mutable std::mutex failures_mutex_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

}  // namespace fcgimux::test
