// SPDX-License-Identifier: ISC
#include "tests/ops/nginx_load.hpp"

#include "tests/support/http_client.hpp"
#include "tests/support/test_data.hpp"

namespace fcgimux::test {

nginx_load::nginx_load(std::uint16_t port, int clients) {
  for (int t = 0; t < clients; ++t) threads_.emplace_back([this, t, port] { client(t, port); });
}

void nginx_load::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

std::vector<std::string> nginx_load::failures() const {
  std::lock_guard lock(failures_mutex_);
  return failures_;
}

void nginx_load::client(int t, std::uint16_t port) {
  http_connection c(port);
  for (std::uint64_t i = 0; !stop_; ++i) {
    // Sizes and bytes differ from request to request and from client to client.
    const bool post = (i + static_cast<std::uint64_t>(t)) % 2 == 0;
    const std::uint64_t ut = static_cast<std::uint64_t>(t);
    const std::string body = post ? random_bytes(1 + (i * 7919 + ut * 104729) % 20000, i * 31 + ut) : "";
    const std::size_t n = 1 + (i * 131 + ut) % 5000;
    auto r = post ? c.request("POST", "/echo", body) : c.request("GET", "/data?bytes=" + std::to_string(n));
    const std::string& want = post ? body : pattern_bytes(n);
    if (r.ok && r.status == 200 && r.body == want) {
      ++ok_;
    } else {
      std::lock_guard lock(failures_mutex_);
      failures_.push_back(std::string(post ? "POST" : "GET") + " -> " + std::to_string(r.status) + " " + r.error);
    }
  }
}

}  // namespace fcgimux::test
