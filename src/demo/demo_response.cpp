// SPDX-License-Identifier: ISC
#include "demo_response.hpp"

#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "proto/protocol.hpp"

#include <unistd.h>
#include <charconv>
#include <ctime>

namespace fcgimux::demo {

namespace {

struct query {
  std::uint64_t sleep_ms = 0;
  bool has_bytes = false;
  std::uint64_t bytes = 0;
  std::string status;
  std::string stderr_text;
  bool crash = false;
  bool has_crash_after = false;
  std::uint64_t crash_after = 0;
  bool hang = false;
};

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::uint64_t to_number(std::string_view s) noexcept {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

query parse_query(std::string_view qs) {
  query q;
  while (!qs.empty()) {
    auto amp = qs.find('&');
    std::string_view pair = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key == "sleep_ms") {
      q.sleep_ms = to_number(value);
    } else if (key == "bytes") {
      q.has_bytes = true;
      q.bytes = to_number(value);
    } else if (key == "status") {
      q.status = url_decode(value);
    } else if (key == "stderr") {
      q.stderr_text = url_decode(value);
    } else if (key == "crash_after") {
      q.has_crash_after = true;
      q.crash_after = to_number(value);
    } else if (key == "crash") {
      q.crash = value == "1";
    } else if (key == "hang") {
      q.hang = value == "1";
    }
  }
  return q;
}

std::string_view request_path(std::string_view params) noexcept {
  for (std::string_view name : {"DOCUMENT_URI", "SCRIPT_NAME", "REQUEST_URI"}) {
    auto found = proto::find_name_value(params, name);
    if (found.found && !found.value.empty()) return found.value.substr(0, found.value.find('?'));
  }
  return {};
}

void sleep_for_ms(std::uint64_t ms) noexcept {
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0) {
  }
}

void write_stderr_line(std::string_view text) noexcept {
  std::string line = "fcgimux-demo[" + std::to_string(::getpid()) + "]: ";
  line.append(text);
  line += '\n';
  [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
}

}  // namespace

outcome respond(const request_view& req, std::string& out) {
  query q = parse_query(proto::find_name_value(req.params, "QUERY_STRING").value);
  if (q.crash) ::_exit(3);
  if (q.hang) return outcome::hang;
  if (q.sleep_ms > 0) sleep_for_ms(q.sleep_ms);

  // Reused across requests so a steady stream of answers neither allocates nor refills the pattern.
  static std::string body;
  static std::string pattern;
  std::string_view content;
  std::string_view content_type = "text/plain";
  if (request_path(req.params) == "/echo") {
    content = req.body;
    content_type = "application/octet-stream";
  } else if (q.has_bytes) {
    for (std::size_t i = pattern.size(); i < q.bytes; ++i) pattern += pattern_byte(i);
    content = std::string_view(pattern).substr(0, q.bytes);
    content_type = "application/octet-stream";
  } else {
    body = "hello from pid " + std::to_string(::getpid()) + "\n";
    content = body;
  }

  std::string head;
  if (!q.status.empty()) head += "Status: " + q.status + "\r\n";
  head += "Content-Type: ";
  head += content_type;
  head += "\r\nContent-Length: " + std::to_string(content.size()) + "\r\n\r\n";

  if (!q.stderr_text.empty()) {
    write_stderr_line(q.stderr_text);
    proto::append_stream(out, proto::record_type::stderr_stream, req.id, q.stderr_text);
    proto::append_stream_end(out, proto::record_type::stderr_stream, req.id);
  }
  if (q.has_crash_after) {
    // The head and the first N body bytes, then the process dies: a truncated answer.
    content = content.substr(0, q.crash_after);
    proto::append_stream(out, proto::record_type::stdout_stream, req.id, head);
    proto::append_stream(out, proto::record_type::stdout_stream, req.id, content);
    return outcome::exit_after_write;
  }
  if (head.size() + content.size() <= proto::max_content_length) {
    head.append(content);  // small answers: one STDOUT record
    proto::append_stream(out, proto::record_type::stdout_stream, req.id, head);
  } else {
    proto::append_stream(out, proto::record_type::stdout_stream, req.id, head);
    proto::append_stream(out, proto::record_type::stdout_stream, req.id, content);
  }
  proto::append_stream_end(out, proto::record_type::stdout_stream, req.id);
  proto::append_end_request(out, req.id, 0, proto::protocol_status::request_complete);
  return outcome::answered;
}

}  // namespace fcgimux::demo
