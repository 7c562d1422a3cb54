// SPDX-License-Identifier: ISC
#pragma once
// Incremental, split-safe parser of an HTTP/1.x request head (RFC 9112), the subset the stats
// server needs (sans-I/O: no Asio, no sockets, no exceptions).
//
// Usage: call feed(in) with the unread bytes; it consumes bytes up to and including the empty
// line that ends one head and returns how many it consumed. `done`: request() holds the head and
// the bytes after it (a pipelined request) are left to the caller; `need_more`: every byte of
// `in` was consumed; `error`: error() says which HTTP status to answer, and the parser stays
// failed (sticky) until reset(). The result does not depend on how the bytes were split: each
// byte is judged where it stands.
//
// View lifetime: every view in request() points into the parser's own buffer, valid until the
// next call to feed() or reset() or the parser's destruction.
//
// A body is never read: a request that announces one has has_body set, and the server, which
// cannot skip it, answers and closes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fcgimux {

/// What the parser accepts; the server's limits.
struct http_parser_limits {
  std::size_t max_request_line = 4096;  ///< request line without its line end; more gets 414
  std::size_t max_head_bytes = 8192;    ///< request line + headers + the empty line; more gets 431
};

/// Why a head was refused; http_status() is the answer.
enum class http_parse_error : std::uint8_t {
  none,
  bad_request,            ///< 400: malformed line, field, Host or Content-Length
  uri_too_long,           ///< 414: request line over max_request_line
  header_too_large,       ///< 431: head over max_head_bytes
  not_implemented,        ///< 501: a transfer coding other than chunked
  version_not_supported,  ///< 505: not HTTP/1.x
};

/// The HTTP status that answers `e` (0 for none).
int http_status(http_parse_error e) noexcept;

/// One request head; views into the parser's buffer (see above).
struct http_request {
  std::string_view method;
  std::string_view target;  ///< as sent (origin-form or absolute-form)
  std::string_view path;    ///< the target's path, without the scheme and authority of absolute-form
  std::string_view query;   ///< after '?', empty without one
  int minor_version = 1;
  bool keep_alive = true;  ///< HTTP/1.1 unless Connection: close; HTTP/1.0 only with keep-alive
  bool has_body = false;   ///< a non-zero Content-Length or a Transfer-Encoding
  std::string_view authorization;  ///< the Authorization field's value, empty without one
};

/// What one feed() did.
enum class http_parse_status : std::uint8_t { need_more, done, error };

/// Bytes taken and what they made.
struct http_parse_result {
  std::size_t consumed = 0;
  http_parse_status status = http_parse_status::need_more;
};

/// Parses one request head at a time; call reset() (or feed() again after `done`) for the next.
class http_request_parser {
 public:
  /// A parser with these limits (its buffer is reserved once, for max_head_bytes).
  explicit http_request_parser(http_parser_limits limits = {});

  /// Takes bytes until a head is complete or refused; see the file comment.
  http_parse_result feed(std::string_view in);
  /// Forgets the current head and any error.
  void reset() noexcept;

  /// The head, after feed() returned `done`.
  const http_request& request() const noexcept { return request_; }
  /// Why the head was refused, after feed() returned `error`; `none` otherwise.
  http_parse_error error() const noexcept { return error_; }
  /// True once a byte of a request (not a leading empty line) has been taken.
  bool started() const noexcept { return !buf_.empty(); }

 private:
  http_parse_error take(char ch);
  http_parse_error finish_head();

  http_parser_limits limits_;
  std::string buf_;                       ///< the head so far, leading empty lines left out
  std::size_t line_start_ = 0;            ///< where the line being read begins in buf_
  std::size_t request_line_end_ = 0;      ///< 0 until the request line ended (then its length + 1)
  bool done_ = false;
  http_parse_error error_ = http_parse_error::none;
  http_request request_;
};

}  // namespace fcgimux
