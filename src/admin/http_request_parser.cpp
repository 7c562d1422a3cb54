// SPDX-License-Identifier: ISC
#include "src/admin/http_request_parser.hpp"

namespace fcgimux {

namespace {

bool is_tchar(char ch) {
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) return true;
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(ch) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s)
    if (!is_tchar(ch)) return false;
  return true;
}

char lower(char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool valid_field_value(std::string_view v) {
  for (char ch : v) {
    const auto u = static_cast<unsigned char>(ch);
    if ((u < 0x20 && ch != '\t') || u == 0x7f) return false;
  }
  return true;
}

// One line of the head without its line end (a bare LF is tolerated, RFC 9112 2.2).
std::string_view next_line(std::string_view& rest) {
  const std::size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

http_parse_error parse_request_line(std::string_view line, http_request& req) {
  // A bare CR inside the line would be read as a line end by some other parser on the way.
  if (line.find('\r') != std::string_view::npos) return http_parse_error::bad_request;
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return http_parse_error::bad_request;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return http_parse_error::bad_request;
  req.method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(req.method) || target.empty()) return http_parse_error::bad_request;
  for (char ch : target)
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f)
      return http_parse_error::bad_request;
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return http_parse_error::bad_request;
  if (version[5] != '1') return http_parse_error::version_not_supported;
  req.minor_version = version[7] - '0';
  req.keep_alive = req.minor_version >= 1;
  req.target = target;

  // absolute-form (RFC 9112 3.2.2) must be accepted; the authority does not matter here
  bool absolute = false;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
      target.remove_prefix(scheme.size());
      const std::size_t slash = target.find('/');
      target = slash == std::string_view::npos ? std::string_view{"/"} : target.substr(slash);
      absolute = true;
      break;
    }
  }
  // origin-form or OPTIONS' asterisk-form; authority-form is CONNECT's, which no path here serves
  if (!absolute && target.front() != '/' && target != "*") return http_parse_error::bad_request;
  const std::size_t q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  return http_parse_error::none;
}

// The fields this server acts on, checked as a proxy in front of it would (RFC 9112 6.3: a
// request whose body length is ambiguous is refused, never guessed).
struct field_state {
  std::size_t host = 0;
  std::size_t authorization = 0;
  std::string_view content_length;
  bool transfer_encoding = false;
  bool close = false;
  bool keep_alive = false;
};

http_parse_error take_field(std::string_view name, std::string_view value, field_state& f, http_request& req) {
  if (iequals(name, "host")) {
    ++f.host;
  } else if (iequals(name, "authorization")) {
    if (++f.authorization > 1) return http_parse_error::bad_request;
    req.authorization = value;
  } else if (iequals(name, "content-length")) {
    if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos)
      return http_parse_error::bad_request;
    const std::size_t digits = value.find_first_not_of('0');
    const std::string_view number = digits == std::string_view::npos ? std::string_view{"0"} : value.substr(digits);
    if (!f.content_length.empty() && f.content_length != number) return http_parse_error::bad_request;
    f.content_length = number;
    if (number != "0") req.has_body = true;
  } else if (iequals(name, "transfer-encoding")) {
    // Only chunked, last, can end a request's body; anything else cannot be read (RFC 9112 6.1).
    const std::size_t comma = value.rfind(',');
    const std::string_view last = trim_ows(comma == std::string_view::npos ? value : value.substr(comma + 1));
    if (!iequals(last, "chunked")) return http_parse_error::not_implemented;
    f.transfer_encoding = true;
    req.has_body = true;
  } else if (iequals(name, "connection")) {
    std::string_view tokens = value;
    while (!tokens.empty()) {
      const std::size_t comma = tokens.find(',');
      const std::string_view t = trim_ows(tokens.substr(0, comma));
      if (iequals(t, "close"))
        f.close = true;
      else if (iequals(t, "keep-alive"))
        f.keep_alive = true;
      tokens.remove_prefix(comma == std::string_view::npos ? tokens.size() : comma + 1);
    }
  }
  return http_parse_error::none;
}

}  // namespace

int http_status(http_parse_error e) noexcept {
  switch (e) {
    case http_parse_error::none: return 0;
    case http_parse_error::bad_request: return 400;
    case http_parse_error::uri_too_long: return 414;
    case http_parse_error::header_too_large: return 431;
    case http_parse_error::not_implemented: return 501;
    case http_parse_error::version_not_supported: return 505;
  }
  return 400;
}

http_request_parser::http_request_parser(http_parser_limits limits) : limits_(limits) {
  buf_.reserve(limits_.max_head_bytes + 1);
}

void http_request_parser::reset() noexcept {
  buf_.clear();
  line_start_ = 0;
  request_line_end_ = 0;
  done_ = false;
  error_ = http_parse_error::none;
  request_ = {};
}

http_parse_result http_request_parser::feed(std::string_view in) {
  if (done_) reset();  // the last head's views expire here, as documented
  if (error_ != http_parse_error::none) return {0, http_parse_status::error};
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (const http_parse_error e = take(in[i]); e != http_parse_error::none) {
      error_ = e;
      return {i + 1, http_parse_status::error};
    }
    if (done_) return {i + 1, http_parse_status::done};
  }
  return {in.size(), http_parse_status::need_more};
}

// One byte at a time, so that where a limit is crossed never depends on how the input was split.
http_parse_error http_request_parser::take(char ch) {
  // RFC 9112 2.2: empty lines before the request line are ignored (and not kept).
  if (request_line_end_ == 0 && ch == '\n' && (buf_.empty() || buf_ == "\r")) {
    buf_.clear();
    return http_parse_error::none;
  }
  buf_.push_back(ch);
  if (request_line_end_ == 0 && ch != '\n' && ch != '\r' && buf_.size() > limits_.max_request_line)
    return http_parse_error::uri_too_long;
  if (buf_.size() > limits_.max_head_bytes) return http_parse_error::header_too_large;
  if (ch != '\n') return http_parse_error::none;

  std::string_view line = std::string_view(buf_).substr(line_start_, buf_.size() - 1 - line_start_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (request_line_end_ == 0) {
    request_line_end_ = buf_.size();
  } else if (line.empty()) {
    if (const http_parse_error e = finish_head(); e != http_parse_error::none) return e;
    done_ = true;
  }
  line_start_ = buf_.size();
  return http_parse_error::none;
}

http_parse_error http_request_parser::finish_head() {
  std::string_view rest = buf_;
  const std::string_view line = next_line(rest);
  if (const http_parse_error e = parse_request_line(line, request_); e != http_parse_error::none) return e;
  field_state f;
  for (;;) {
    const std::string_view field = next_line(rest);
    if (field.empty()) break;
    if (field.front() == ' ' || field.front() == '\t')  // obs-fold: RFC 9112 5.2 allows a 400
      return http_parse_error::bad_request;
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) return http_parse_error::bad_request;
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = trim_ows(field.substr(colon + 1));
    if (!is_token(name) || !valid_field_value(value)) return http_parse_error::bad_request;
    if (const http_parse_error e = take_field(name, value, f, request_); e != http_parse_error::none) return e;
  }
  // RFC 9112 6.3: both a Content-Length and a Transfer-Encoding is how requests are smuggled
  if (f.transfer_encoding && !f.content_length.empty()) return http_parse_error::bad_request;
  if (f.close)
    request_.keep_alive = false;
  else if (f.keep_alive)
    request_.keep_alive = true;
  // RFC 9112 3.2: an HTTP/1.1 request without exactly one Host is a 400
  if (request_.minor_version >= 1 && f.host != 1) return http_parse_error::bad_request;
  if (f.host > 1) return http_parse_error::bad_request;
  return http_parse_error::none;
}

}  // namespace fcgimux
