#pragma once
// A deliberately dumb blocking HTTP/1.1 client over a plain socket, so tests control every byte
// (garbage, oversized heads, idle connections) and every wait is bounded.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace fcgimux::test {

/// One parsed response.
struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
};

/// One TCP connection to 127.0.0.1:port.
class http_connection {
 public:
  /// Connects at once; ok() tells whether it worked.
  explicit http_connection(std::uint16_t port);
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  /// True when connected.
  bool ok() const { return fd_ >= 0; }
  /// Sends all of `bytes`; false on error.
  bool send(const std::string& bytes);
  /// Reads one response (no body for HEAD), waiting at most `timeout` in total.
  std::optional<http_response> read_response(bool head = false,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Waits for the peer to close; returns whatever arrived, or nothing if it stayed open.
  std::optional<std::string> read_until_closed(std::chrono::milliseconds timeout);

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
};

/// Connects, sends `request`, reads one response.
std::optional<http_response> http_exchange(std::uint16_t port, const std::string& request, bool head = false);

/// A GET request line plus Host.
std::string http_get(const std::string& target, const std::string& extra_headers = "");

}  // namespace fcgimux::test
