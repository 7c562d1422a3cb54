// SPDX-License-Identifier: ISC
#include "tests/remote/remote_load.hpp"

#include "tests/remote/fpm_server.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/fcgi_client.hpp"

namespace fcgimux::test {

using namespace std::chrono_literals;

std::string body_for(int request, std::size_t n) {
  std::string b(n, '\0');
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<char>('a' + (request * 7 + i * 13) % 26);
  return b;
}

// One request over FastCGI to fcgimux's front; checks that the answer is the one to this very
// request (method, length and CRC of its body) and says which server gave it.
outcome ask(const endpoint& front, const std::string& script, const std::string& method, const std::string& uri,
            const std::string& body) {
  outcome o;
  fcgi_client c(front);
  if (!c.connected()) {
    o.why = "cannot connect to fcgimux";
    return o;
  }
  request_spec r;
  r.params = cgi_params(method, uri, body.size());
  r.params.emplace_back("SCRIPT_FILENAME", script);
  r.body = body;
  auto st = c.exchange(r, 30s);
  if (st != read_status::ok) {
    o.why = std::string("read: ") + to_string(st);
    return o;
  }
  auto http = parse_cgi_response(c.response(1).out);
  auto a = parse_answer(http.body);
  if (!http.valid || http.status != 200 || !a.ok) {
    o.why = "answer: " + c.response(1).out;
    return o;
  }
  if (a.method != method || a.length != body.size() || a.crc != crc32_hex(body)) {
    o.why = "an answer to another request: " + http.body;
    return o;
  }
  o.ok = true;
  o.server = a.server;
  return o;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < 5; ++i) s += v[i] + "\n";
  return s;
}

}  // namespace fcgimux::test
