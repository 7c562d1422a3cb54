// SPDX-License-Identifier: ISC
#pragma once
// How an exchange with a pool member failed, as a std::error_code of its own category, and the
// one condition the rest of fcgimux asks about it: is the request safe to send to another member?
// Safe means the member provably never took the request (docs/architecture.md, "When a request is
// sent again"); everything else ends the request with 502, 504 or a cut-off answer.

#include <system_error>

namespace fcgimux {

enum class exchange_errc {
  connect_failed = 1,  ///< the member could not be reached
  reset_unread,        ///< ECONNRESET/EPIPE with no answer byte and every body byte still held
  closed,              ///< the connection ended before END_REQUEST, the request possibly read
  refused,             ///< END_REQUEST with a protocol status other than REQUEST_COMPLETE
  broken,              ///< an answer outside the protocol
  timed_out,           ///< --request-timeout
  internal,            ///< fcgimux's own failure (allocation)
};

enum class exchange_condition {
  safe_to_resend = 1,  ///< the member never took the request: another member may have it
};

const std::error_category& exchange_category() noexcept;
std::error_code make_error_code(exchange_errc e) noexcept;
std::error_condition make_error_condition(exchange_condition c) noexcept;

/// What an exchange saw, for classify().
struct exchange_facts {
  bool internal_error = false;
  bool broken = false;  ///< the member broke the protocol
  bool timed_out = false;
  bool got_end = false;  ///< END_REQUEST came (with a status other than complete)
  bool connect_failed = false;
  bool response_bytes = false;  ///< any byte of an answer came back
  bool body_streamed = false;   ///< body bytes fcgimux no longer holds went to the member
  std::error_code io;           ///< the socket's error, if any
};

/// ECONNRESET or EPIPE: the kernel says the member closed its socket with our bytes unread in it.
bool unread_by_member(const std::error_code& ec) noexcept;

/// The failure, for an exchange that did not end with a whole answer.
std::error_code classify(const exchange_facts& f) noexcept;

}  // namespace fcgimux

template <>
struct std::is_error_code_enum<fcgimux::exchange_errc> : std::true_type {};
template <>
struct std::is_error_condition_enum<fcgimux::exchange_condition> : std::true_type {};
