// SPDX-License-Identifier: ISC
#include "tests/lifecycle/lifecycle_support.hpp"

#include "tests/support/http_client.hpp"
#include "tests/support/paths.hpp"

#include <stdexcept>
#include <thread>

namespace fcgimux::test {

get_result get(std::uint16_t port, const std::string& uri, std::chrono::milliseconds timeout) {
  get_result out;
  fcgi_client c(endpoint::tcp(port));
  if (!c.connected()) {
    out.how = read_status::closed;
    return out;
  }
  request_spec r;
  r.params = cgi_params("GET", uri);
  out.how = c.exchange(r, timeout);
  out.response = parse_cgi_response(c.response(1).out);
  return out;
}

nlohmann::json stats_of(const fcgimux_instance& f) {
  if (f.stats_port() == 0) throw std::runtime_error("fcgimux printed no stats port");
  auto r = http_request(f.stats_port(), "GET", "/stats");
  if (!r.ok || r.status != 200) throw std::runtime_error("GET /stats failed: " + r.error);
  return nlohmann::json::parse(r.body);
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

fcgimux_options demo_pool(std::vector<std::string> args) {
  fcgimux_options o;
  o.args = {"--stats", "127.0.0.1:0"};
  o.args.insert(o.args.end(), args.begin(), args.end());
  o.command = {demo_bin};
  return o;
}

}  // namespace fcgimux::test
