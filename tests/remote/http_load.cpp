// SPDX-License-Identifier: ISC
#include "tests/remote/http_load.hpp"

#include "tests/remote/fpm_server.hpp"
#include "tests/remote/remote_load.hpp"
#include "tests/support/http_client.hpp"

#include <algorithm>

namespace fcgimux::test {

using namespace std::chrono_literals;

http_load::http_load(std::uint16_t port, std::string target, int clients, int post_every)
    : port_(port), target_(std::move(target)), post_every_(post_every) {
  for (int c = 0; c < clients; ++c) threads_.emplace_back([this, c] { run(c); });
}

void http_load::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void http_load::run(int client) {
  http_connection conn(port_);
  for (int i = 0; !stop_; ++i) {
    http_sample s;
    s.post = post_every_ > 0 && i % post_every_ == post_every_ - 1;
    const std::string body = s.post ? body_for(client * 100000 + i, 1 + (client * 7919 + i * 997) % 20000) : "";
    s.start = std::chrono::steady_clock::now();
    // nginx's own fastcgi_read_timeout (30 s) is above every wait a test allows: a request
    // fcgimux held too long shows as a slow answer, not as nginx giving up first.
    auto r = conn.request(s.post ? "POST" : "GET", target_, body, 60s);
    s.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - s.start);
    auto a = parse_answer(r.body);
    if (!r.ok) {
      s.why = "no answer: " + r.error;
    } else if (r.status != 200 || !a.ok) {
      s.why = "status " + std::to_string(r.status) + ": " + r.body.substr(0, 200);
    } else if (a.method != (s.post ? "POST" : "GET") || a.length != body.size() || a.crc != crc32_hex(body)) {
      s.why = "an answer to another request: " + r.body;
    } else {
      s.ok = true;
      s.server = a.server;
    }
    if (s.ok) ++answered_;
    std::lock_guard lock(mu_);
    samples_.push_back(std::move(s));
  }
}

std::vector<http_sample> http_load::samples() const {
  std::lock_guard lock(mu_);
  return samples_;
}

bool http_load::wait_answered(int n, std::chrono::seconds within) const {
  const int target = answered_ + n;
  for (auto end = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < end;) {
    if (answered_ >= target) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::vector<http_sample> between(const std::vector<http_sample>& all, std::chrono::steady_clock::time_point from,
                                 std::chrono::steady_clock::time_point to) {
  std::vector<http_sample> out;
  for (auto& s : all)
    if (s.start >= from && s.start < to) out.push_back(s);
  return out;
}

std::chrono::milliseconds quantile(const std::vector<http_sample>& s, double q) {
  std::vector<std::chrono::milliseconds> t;
  for (auto& x : s)
    if (x.ok) t.push_back(x.took);
  if (t.empty()) return 0ms;
  std::sort(t.begin(), t.end());
  return t[std::min(t.size() - 1, static_cast<std::size_t>(q * static_cast<double>(t.size())))];
}

std::chrono::milliseconds longest(const std::vector<http_sample>& s) {
  std::chrono::milliseconds m{0};
  for (auto& x : s) m = std::max(m, x.took);
  return m;
}

std::map<std::string, int> by_server(const std::vector<http_sample>& s) {
  std::map<std::string, int> n;
  for (auto& x : s)
    if (x.ok) ++n[x.server];
  return n;
}

std::string failures_of(const std::vector<http_sample>& s) {
  std::string out;
  int n = 0;
  for (auto& x : s)
    if (!x.ok && n++ < 5) out += (x.post ? "POST " : "GET ") + x.why + "\n";
  return out;
}

}  // namespace fcgimux::test
