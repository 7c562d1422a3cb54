// SPDX-License-Identifier: ISC
#include "src/admin/stats_routes.hpp"

#include "src/admin/dashboard_page.hpp"
#include "src/admin/fpm_status_route.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <ctime>
#include <optional>

namespace fcgimux {

namespace {

// The value of `key` in the query (empty for a bare key), or nullopt when absent.
std::optional<std::string_view> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
  }
  return std::nullopt;
}

bool query_has(std::string_view query, std::string_view key) { return query_value(query, key).has_value(); }

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string http_date() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 64> out{};
  const std::size_t n = std::strftime(out.data(), out.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(out.data(), n);
}

std::string dump_json(const nlohmann::json& j) {
  // replace, not throw, on invalid UTF-8 (a worker's REQUEST_URI can hold anything)
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// 403 and 401 end the connection: a client that is refused has nothing more to ask on it.
std::optional<stats_response> refusal(const http_request& req, const stats_access& access, bool address_allowed) {
  if (!address_allowed) return stats_error_response(403, true);
  if (access.token_accepted(req.authorization)) return std::nullopt;
  stats_response r = stats_error_response(401, true);
  // RFC 6750 3: a wrong token is "invalid_token"; none at all gets the bare challenge
  r.extra_headers = req.authorization.empty() ? "WWW-Authenticate: Bearer realm=\"fcgimux\"\r\n"
                                              : "WWW-Authenticate: Bearer realm=\"fcgimux\", error=\"invalid_token\"\r\n";
  return r;
}

}  // namespace

stats_response stats_error_response(int status, bool close) {
  stats_response r;
  r.status = status;
  r.set_body(fmt::format("{} {}\n", status, reason(status)));
  r.close = close;
  return r;
}

std::string serialize_head(const stats_response& r, bool keep_alive_10) {
  std::string h = fmt::format(
      "HTTP/1.1 {} {}\r\nServer: fcgimux/{}\r\nDate: {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
      r.status, reason(r.status), FCGIMUX_VERSION, http_date(), r.content_type, r.body().size());
  h += r.extra_headers;
  if (r.close)
    h += "Connection: close\r\n";
  else if (keep_alive_10)
    h += "Connection: keep-alive\r\n";
  h += "\r\n";
  return h;
}

stats_response route_stats_request(const stats& s, const stats_history* history, const http_request& req,
                                   const stats_access& access, bool address_allowed) {
  if (req.method != "GET" && req.method != "HEAD") {
    stats_response r = stats_error_response(405, true);
    r.extra_headers = "Allow: GET, HEAD\r\n";
    return r;
  }
  if (req.has_body)  // a GET with a body: we will not read it, so the connection cannot go on
    return stats_error_response(400, true);
  // /healthz says only "ok" or not, to whoever asks: a probe comes from the node's address,
  // which neither the image nor its configuration can know.
  if (req.path != "/healthz")
    if (auto refused = refusal(req, access, address_allowed)) return std::move(*refused);

  stats_response r;
  r.close = !req.keep_alive;
  if (req.path == "/stats") {
    r.content_type = "application/json";
    r.set_body(dump_json(s.to_json(query_has(req.query, "full"))));
  } else if (req.path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.set_body(s.to_prometheus());
  } else if (req.path == "/healthz") {
    // Every pool, or the one named: pool names are [a-z0-9_-], so no decoding is needed.
    bool ok = false;
    if (auto name = query_value(req.query, "pool")) {
      const pool_stats* p = s.find(*name);
      if (!p) return stats_error_response(404, r.close);
      ok = !s.stopping && p->snapshot(false).can_serve;
    } else {
      ok = s.can_serve();
    }
    r.status = ok ? 200 : 503;
    r.set_body(ok ? "ok\n" : "unavailable\n");
  } else if (req.path == "/history" && history) {
    nlohmann::json h = history->to_json(query_value(req.query, "pool"));
    if (h.is_null()) return stats_error_response(404, r.close);
    r.content_type = "application/json";
    r.set_body(h.dump() + "\n");
  } else if (req.path == "/fpm-status") {
    // php-fpm's status page (admin/fpm_status_route.hpp); ?pool=NAME with several pools.
    auto page = fpm_status_route(s, req.query);
    if (!page) return stats_error_response(404, r.close);
    r.content_type = page->content_type;
    r.set_body(std::move(page->body));
  } else if (req.path == "/") {
    r.content_type = "text/html; charset=utf-8";
    r.static_body = dashboard_html;
    r.extra_headers =
        "Content-Security-Policy: default-src 'self'; script-src 'unsafe-inline'; "
        "style-src 'unsafe-inline'\r\n";
  } else {
    return stats_error_response(404, r.close);
  }
  return r;
}

}  // namespace fcgimux
