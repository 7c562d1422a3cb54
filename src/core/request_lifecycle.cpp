// SPDX-License-Identifier: ISC
#include "src/core/request_lifecycle.hpp"

#include "src/core/front_port.hpp"

#include <fmt/format.h>

namespace fcgimux {
namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 403: return "Forbidden";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

}  // namespace

void finish_request(request& r, std::uint32_t app_status, int http_status) {
  if (r.state == request_state::done) return;
  if (auto c = r.conn.lock(); c && !r.front_gone)
    c->end_request(r, app_status, proto::protocol_status::request_complete);
  r.state = request_state::done;
  r.end_status = http_status;
  // An answer nobody received is not a response: it is counted as aborted instead.
  r.home->request_finished(r, r.front_gone ? 0 : http_status);
}

void respond(request& r, int status, std::string_view content_type, std::string_view body) {
  if (r.state == request_state::done) return;
  auto c = r.conn.lock();
  if (c && !r.front_gone) {
    std::string head =
        fmt::format("Status: {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}\r\n", status, reason_phrase(status),
                    content_type, body.size(), status == 503 ? "Retry-After: 1\r\n" : "");
    c->send_stream(r, proto::record_type::stdout_stream, head);
    c->send_stream(r, proto::record_type::stdout_stream, body);
  }
  finish_request(r, 0, status);
}

void respond_error(request& r, int status, std::string_view message) {
  respond(r, status, "text/plain", fmt::format("{} {}: {}\n", status, reason_phrase(status), message));
}

}  // namespace fcgimux
