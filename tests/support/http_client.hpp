#pragma once

#include "tests/support/net.hpp"
#include "tests/support/unique_fd.hpp"

#include <chrono>
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
};

/// A blocking HTTP/1.1 client connection (Content-Length and chunked bodies), for talking to nginx.
class http_connection {
 public:
  /// Connects to 127.0.0.1:port; check connected().
  explicit http_connection(std::uint16_t port);
  /// True while connected.
  bool connected() const noexcept { return static_cast<bool>(fd_); }
  /// Sends one request and reads its response; reconnects first if the previous one closed.
  http_response request(const std::string& method, const std::string& target, const std::string& body = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(20), bool keep_alive = true);

 private:
  bool read_more(std::chrono::steady_clock::time_point deadline);

  std::uint16_t port_;
  unique_fd fd_;
  std::string in_;
};

/// One request on a fresh connection (Connection: close).
http_response http_request(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body = {}, std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace fcgimux::test
