// SPDX-License-Identifier: ISC
#pragma once
// Keep-alive HTTP clients through nginx for the fault tests: each sends requests until stopped,
// checks that every answer is the one to its own request (method, body length and CRC) and
// records which server gave it, when and how long it took.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fcgimux::test {

/// One request as a client saw it.
struct http_sample {
  std::chrono::steady_clock::time_point start;
  std::chrono::milliseconds took{0};
  bool ok = false;
  bool post = false;
  std::string server;  ///< the server the answer names, when ok
  std::string why;     ///< what went wrong, when not
};

/// `clients` threads on kept connections to 127.0.0.1:`port`, sending GETs of `target` (and every
/// `post_every`th request a POST with a body of its own; 0: GETs only) until stop().
class http_load {
 public:
  http_load(std::uint16_t port, std::string target, int clients, int post_every = 0);
  http_load(const http_load&) = delete;
  http_load& operator=(const http_load&) = delete;
  ~http_load() { stop(); }

  /// Stops the clients after their current request and joins them.
  void stop();
  /// Every request so far.
  std::vector<http_sample> samples() const;
  /// Requests answered so far.
  int answered() const noexcept { return answered_; }
  /// Waits (bounded) until `n` more requests than now were answered; false on timeout.
  bool wait_answered(int n, std::chrono::seconds within = std::chrono::seconds(60)) const;

 private:
  void run(int client);

  std::uint16_t port_;
  std::string target_;
  int post_every_;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  mutable std::mutex mu_;
  std::vector<http_sample> samples_;
  std::vector<std::thread> threads_;
};

/// The requests of `all` that started in [from, to).
std::vector<http_sample> between(const std::vector<http_sample>& all, std::chrono::steady_clock::time_point from,
                                 std::chrono::steady_clock::time_point to);
/// The `q` quantile (0 to 1) of the latencies of the answered ones of `s`; 0 when none.
std::chrono::milliseconds quantile(const std::vector<http_sample>& s, double q);
/// The longest any request of `s` took, answered or not.
std::chrono::milliseconds longest(const std::vector<http_sample>& s);
/// Answers per server.
std::map<std::string, int> by_server(const std::vector<http_sample>& s);
/// The failures' reasons (the first few), for a failure message.
std::string failures_of(const std::vector<http_sample>& s);

}  // namespace fcgimux::test
