// SPDX-License-Identifier: ISC
#pragma once
// A blocking HTTP/1.1 client for tests: whole requests to nginx, and raw bytes to fcgimux's stats
// server (garbage, oversized heads, idle connections). Every wait is bounded.

#include "tests/support/net.hpp"
#include "tests/support/unique_fd.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fcgimux::test {

/// An HTTP/1.1 response.
struct http_response {
  bool ok = false;    ///< a whole response was read
  std::string error;  ///< why not, when !ok
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;        ///< de-chunked
  bool keep_alive = true;  ///< the server did not say Connection: close

  /// The first header named `name` (case-insensitive), or "".
  std::string header(const std::string& name) const;
  /// Whether a header named `name` (case-insensitive) came.
  bool has_header(const std::string& name) const;
};

/// A blocking HTTP/1.1 client connection to 127.0.0.1:port (Content-Length and chunked bodies).
class http_connection {
 public:
  /// Connects; check connected().
  explicit http_connection(std::uint16_t port);
  /// True while connected.
  bool connected() const noexcept { return static_cast<bool>(fd_); }
  /// Sends one request and reads its response; reconnects first if the previous one closed.
  http_response request(const std::string& method, const std::string& target, const std::string& body = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(20), bool keep_alive = true);

  /// Sends `bytes` as they are; false on error.
  bool send(const std::string& bytes);
  /// Reads one response (without a body when `head`: the answer to HEAD), within `timeout`.
  http_response read_response(bool head = false, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Waits for the peer to close; what arrived meanwhile, or nothing if it stayed open.
  std::optional<std::string> read_until_closed(std::chrono::milliseconds timeout);

 private:
  bool read_more(std::chrono::steady_clock::time_point deadline);

  std::uint16_t port_;
  unique_fd fd_;
  std::string in_;
  bool eof_ = false;
};

/// One request on a fresh connection (Connection: close).
http_response http_request(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body = {}, std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// Connects, sends the raw `request`, reads one response.
http_response http_exchange(std::uint16_t port, const std::string& request, bool head = false);

/// A GET request's bytes: the request line, Host and `extra_headers` (each ending in CRLF).
std::string http_get(const std::string& target, const std::string& extra_headers = "");

}  // namespace fcgimux::test
