// SPDX-License-Identifier: ISC
#pragma once

#include "proto/decoder.hpp"
#include "proto/protocol.hpp"
#include "tests/support/net.hpp"
#include "tests/support/unique_fd.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fcgimux::test {

using namespace std::chrono_literals;

/// PARAMS of a request, in order.
using fcgi_params = std::vector<std::pair<std::string, std::string>>;

/// One request as the client sends it.
struct request_spec {
  std::uint16_t id = 1;
  std::uint16_t role = 1;  ///< 1 responder, 2 authorizer, 3 filter, or anything
  std::uint8_t flags = 0;  ///< proto::flag_keep_conn
  fcgi_params params;
  std::string body;                        ///< STDIN
  std::size_t params_record_size = 65535;  ///< content bytes per PARAMS record
  std::size_t stdin_record_size = 65535;   ///< content bytes per STDIN record
};

/// Typical CGI parameters for `method` `uri` (path?query) with a body of `content_length` bytes.
fcgi_params cgi_params(const std::string& method, const std::string& uri, std::size_t content_length = 0);

/// What came back for one request id.
struct fcgi_response {
  std::string out;     ///< STDOUT bytes
  std::string err;     ///< STDERR bytes
  bool ended = false;  ///< END_REQUEST received
  std::uint32_t app_status = 0;
  proto::protocol_status status = proto::protocol_status::request_complete;
  bool stdout_closed = false;  ///< the empty STDOUT record came
};

/// One decoded record, with its content copied.
struct fcgi_record {
  proto::event_type type = proto::event_type::none;
  std::uint8_t record_raw = 0;
  std::uint16_t request_id = 0;
  std::string data;
  std::uint16_t role = 0;
  std::uint8_t flags = 0;
  std::uint32_t app_status = 0;
  proto::protocol_status status = proto::protocol_status::request_complete;
  std::uint8_t unknown_type = 0;
};

/// Why a read returned.
enum class read_status {
  ok,              ///< got what was asked for
  closed,          ///< the peer closed (EOF or reset) first
  timeout,         ///< the deadline passed first
  protocol_error,  ///< the peer sent bytes that are not FastCGI
};

/// Text for failure messages.
const char* to_string(read_status s) noexcept;

/// A blocking FastCGI client for tests. Writes go through a queue that is drained while reading,
/// so a large request and a large response never deadlock each other.
class fcgi_client {
 public:
  /// Connects; check connected().
  explicit fcgi_client(const endpoint& where);
  fcgi_client(fcgi_client&&) noexcept = default;
  fcgi_client& operator=(fcgi_client&&) noexcept = default;

  /// True if the connection was established.
  bool connected() const noexcept { return static_cast<bool>(fd_); }
  /// The socket, for tests that need to poke it.
  int fd() const noexcept { return fd_.get(); }

  /// Each write() sends at most `bytes`, then waits `pause` (slow or fragmented senders).
  void set_write_chunking(std::size_t bytes, std::chrono::milliseconds pause = 0ms);

  /// Queues bytes as they are.
  void send_raw(std::string_view bytes);
  /// Queues BEGIN_REQUEST.
  void send_begin(std::uint16_t id, std::uint16_t role, std::uint8_t flags);
  /// Queues PARAMS records for `params` and the closing empty one.
  void send_params(std::uint16_t id, const fcgi_params& params, std::size_t record_size = 65535);
  /// Queues STDIN records for `data`, and the closing empty one if `close`.
  void send_stdin(std::uint16_t id, std::string_view data, std::size_t record_size = 65535, bool close = true);
  /// Queues ABORT_REQUEST.
  void send_abort(std::uint16_t id);
  /// Queues GET_VALUES asking for `names`.
  void send_get_values(const std::vector<std::string>& names);
  /// Queues a whole request.
  void send_request(const request_spec& r);

  /// Writes everything queued (reading meanwhile); false on error or timeout.
  bool flush(std::chrono::milliseconds timeout = 10s);
  /// Closes the write side (shutdown SHUT_WR).
  void shutdown_write();
  /// Closes the connection.
  void close() { fd_.reset(); }

  /// The next record from the peer.
  read_status next_record(fcgi_record& out, std::chrono::milliseconds timeout = 10s);
  /// Reads until END_REQUEST for `id`; result in response(id).
  read_status read_response(std::uint16_t id, std::chrono::milliseconds timeout = 10s);
  /// Reads until every id in `ids` has ended.
  read_status read_responses(const std::vector<std::uint16_t>& ids, std::chrono::milliseconds timeout = 10s);
  /// Reads (collecting records) until the peer closes; ok if it did within `timeout`.
  read_status read_until_closed(std::chrono::milliseconds timeout = 10s);
  /// What has arrived for `id` so far.
  fcgi_response& response(std::uint16_t id) { return responses_[id]; }
  /// Management records (id 0) collected while reading for other things.
  const std::vector<fcgi_record>& management_records() const noexcept { return management_; }
  /// True once the peer closed the connection (EOF or reset).
  bool peer_closed() const noexcept { return peer_closed_; }

  /// Sends GET_VALUES and reads the GET_VALUES_RESULT into `result`.
  read_status get_values(const std::vector<std::string>& names, std::map<std::string, std::string>& result,
                         std::chrono::milliseconds timeout = 10s);

  /// Sends `r` and reads its response.
  read_status exchange(const request_spec& r, std::chrono::milliseconds timeout = 10s);

 private:
  /// Reads records into `rec` until `done(last record read, or null before the first)` holds;
  /// timeout, or the failed read's status, otherwise.
  read_status read_until(const std::function<bool(const fcgi_record* last)>& done, std::chrono::milliseconds timeout,
                         fcgi_record& rec);
  using clock = std::chrono::steady_clock;
  bool pump(clock::time_point deadline, bool want_read);
  void store(const fcgi_record& rec);

  unique_fd fd_;
  std::string out_;  // queued, not yet written
  std::size_t out_pos_ = 0;
  std::string in_;  // read, not yet decoded
  std::size_t in_pos_ = 0;
  proto::decoder decoder_;
  bool peer_closed_ = false;
  bool write_failed_ = false;
  std::size_t write_chunk_ = 0;
  std::chrono::milliseconds write_pause_{0};
  std::map<std::uint16_t, fcgi_response> responses_;
  std::vector<fcgi_record> management_;
};

}  // namespace fcgimux::test
