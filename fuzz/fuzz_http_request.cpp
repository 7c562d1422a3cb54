// SPDX-License-Identifier: ISC
// The stats server's HTTP request parser (src/admin/http_request_parser.cpp): any bytes, fed
// whole or in pieces, pipelined heads included, give the same heads and errors, and what it
// returns keeps its promises. The input is the raw request stream, so seeds are plain requests;
// the piece size and a second, small set of limits come from its last bytes.

#include "src/admin/http_request_parser.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace fcgimux;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz check failed: %s\n", what);
    std::abort();
  }
}

bool has_line_end(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// One head or the error, as text two splits can be compared by.
std::string describe(const http_request_parser& p, http_parse_status status, const http_parser_limits& limits) {
  if (status == http_parse_status::error) {
    const int code = http_status(p.error());
    check(code == 400 || code == 414 || code == 431 || code == 501 || code == 505, "unexpected status");
    return "error " + std::to_string(code);
  }
  const http_request& r = p.request();
  check(!r.method.empty() && !r.target.empty() && !r.path.empty(), "empty part of a request line");
  check(!has_line_end(r.method) && !has_line_end(r.target) && !has_line_end(r.authorization), "line end in a view");
  check(r.target.find(' ') == std::string_view::npos, "space in the target");
  check(r.minor_version >= 0 && r.minor_version <= 9, "minor version out of range");
  check(r.method.size() + r.target.size() + 10 <= limits.max_request_line, "request line over its limit");
  check(r.path.size() + r.query.size() <= r.target.size(), "path and query longer than the target");
  return std::string(r.method) + " " + std::string(r.target) + " " + std::string(r.path) + " ? " +
         std::string(r.query) + " 1." + std::to_string(r.minor_version) + (r.keep_alive ? " ka" : " close") +
         (r.has_body ? " body" : "") + " auth=" + std::string(r.authorization);
}

// Every head in `in`, fed in pieces of `step` bytes (0: whole), until an error or the end.
std::vector<std::string> parse_stream(std::string_view in, std::size_t step, const http_parser_limits& limits) {
  http_request_parser p(limits);
  std::vector<std::string> out;
  std::size_t total = 0;
  while (!in.empty()) {
    std::string_view piece = step == 0 ? in : in.substr(0, step);
    in.remove_prefix(piece.size());
    while (!piece.empty()) {
      const http_parse_result r = p.feed(piece);
      check(r.consumed <= piece.size(), "consumed more than given");
      total += r.consumed;
      if (r.status == http_parse_status::need_more) {
        check(r.consumed == piece.size(), "need_more left bytes");
        break;
      }
      check(r.consumed > 0, "an event without a byte");
      out.push_back(describe(p, r.status, limits));
      if (r.status == http_parse_status::error) {
        const http_parse_result again = p.feed(piece.substr(r.consumed));
        check(again.status == http_parse_status::error && again.consumed == 0, "error not sticky");
        out.push_back("total " + std::to_string(total));
        return out;
      }
      piece.remove_prefix(r.consumed);
    }
  }
  out.push_back(p.started() ? "partial" : "idle");
  out.push_back("total " + std::to_string(total));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t step = size == 0 ? 1 : 1 + data[size - 1] % 13;
  const http_parser_limits defaults;
  const std::size_t line = size < 2 ? 32 : 16 + data[size - 2] % 64u;
  const std::size_t head = size < 3 ? 64 : 24 + data[size - 3] % 160u;
  const http_parser_limits small{.max_request_line = line, .max_head_bytes = head};
  for (const http_parser_limits& limits : {defaults, small}) {
    const std::vector<std::string> whole = parse_stream(in, 0, limits);
    check(parse_stream(in, step, limits) == whole, "split input parsed differently");
    check(parse_stream(in, 1, limits) == whole, "bytewise input parsed differently");
  }
  return 0;
}
