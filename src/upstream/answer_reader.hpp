// SPDX-License-Identifier: ISC
#pragma once
// A worker's answer to one request, read without I/O: fed the bytes that come from the worker, it
// says what to do with each piece: relay it to the front, end the request, or give up on a worker
// that does not speak the protocol. It checks that only STDOUT, STDERR and END_REQUEST records of
// the request's id come, and that the head of the answer is sound before any of it is relayed
// (response_sniffer). Used by the exchange, and fuzzed on its own (fuzz/fuzz_answer.cpp).

#include "proto/decoder.hpp"
#include "proto/protocol.hpp"
#include "src/upstream/response_sniffer.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace fcgimux {

class answer_reader {
 public:
  enum class step_kind : std::uint8_t {
    need_more,  ///< every byte given was consumed: read more from the worker
    relay,      ///< send `data` to the front as `type` (STDOUT or STDERR)
    end,        ///< the answer is complete: app_status(), protocol_status()
    broken,     ///< the worker broke the protocol: why()
  };
  struct step {
    step_kind kind = step_kind::need_more;
    proto::record_type type = proto::record_type::stdout_stream;
    /// For relay: valid until the next call (it points into the caller's bytes or the held head).
    std::string_view data;
  };

  explicit answer_reader(std::uint16_t request_id) : id_(request_id) {}

  /// Consumes from the front of `in` and returns the next step. After `end` or `broken` it
  /// returns the same again, consuming nothing.
  step next(std::string_view& in);

  std::uint32_t app_status() const noexcept { return app_status_; }
  proto::protocol_status protocol_status() const noexcept { return status_; }
  /// What the worker did wrong, for the log (`broken` only).
  const std::string& why() const noexcept { return why_; }
  /// The status of the head (0 until it was seen whole).
  int http_status() const noexcept { return head_.status(); }

 private:
  step fail(std::string why);

  std::uint16_t id_;
  proto::decoder decoder_;
  response_sniffer head_;
  std::string held_;  // a split head, released at once when it is whole
  bool got_stdout_ = false;
  step_kind final_ = step_kind::need_more;
  std::uint32_t app_status_ = 0;
  proto::protocol_status status_ = proto::protocol_status::request_complete;
  std::string why_;
};

}  // namespace fcgimux
