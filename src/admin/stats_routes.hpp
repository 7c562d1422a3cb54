// SPDX-License-Identifier: ISC
#pragma once
// What the stats server answers to each path (/stats, /metrics, /healthz, /history, /), and the
// bytes of an answer's head. No I/O: stats_server reads the request and writes what this returns.

#include "src/admin/http_request_parser.hpp"
#include "src/admin/stats_access.hpp"
#include "src/stats/history.hpp"
#include "src/stats/stats.hpp"

#include <string>
#include <string_view>

namespace fcgimux {

/// One answer.
struct stats_response {
  int status = 200;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string owned_body;
  std::string_view static_body;  ///< a page compiled in; used when owned_body is empty
  std::string extra_headers;     ///< whole lines, each ending in CRLF
  bool close = false;

  /// Sets the body.
  void set_body(std::string b) { owned_body = std::move(b); }
  /// Not a stored view into owned_body: a moved short string would leave it dangling.
  std::string_view body() const { return owned_body.empty() ? static_body : std::string_view{owned_body}; }
};

/// A short text answer "STATUS REASON".
stats_response stats_error_response(int status, bool close);

/// The status line and headers of `r`; `keep_alive_10` adds Connection: keep-alive for HTTP/1.0.
std::string serialize_head(const stats_response& r, bool keep_alive_10);

/// The answer to `req` from a client whose address is `address_allowed` by `access`.
stats_response route_stats_request(const stats& s, const stats_history* history, const http_request& req,
                                   const stats_access& access, bool address_allowed);

}  // namespace fcgimux
