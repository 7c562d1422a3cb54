// SPDX-License-Identifier: ISC
#include "src/upstream/exchange_error.hpp"

#include <asio/error.hpp>

#include <string>

namespace fcgimux {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "fcgimux.exchange"; }

  std::string message(int e) const override {
    switch (static_cast<exchange_errc>(e)) {
      case exchange_errc::connect_failed: return "the worker could not be reached";
      case exchange_errc::reset_unread: return "the worker closed its connection without reading the request";
      case exchange_errc::closed: return "the worker closed its connection before answering";
      case exchange_errc::refused: return "the worker refused the request";
      case exchange_errc::broken: return "the worker's answer was not valid FastCGI";
      case exchange_errc::timed_out: return "the worker took too long";
      case exchange_errc::internal: return "internal error";
    }
    return "unknown exchange error";
  }

  bool equivalent(int code, const std::error_condition& cond) const noexcept override {
    if (cond.category() != *this || cond.value() != static_cast<int>(exchange_condition::safe_to_resend)) return false;
    const auto e = static_cast<exchange_errc>(code);
    return e == exchange_errc::connect_failed || e == exchange_errc::reset_unread;
  }
};

}  // namespace

const std::error_category& exchange_category() noexcept {
  static const category c;
  return c;
}

std::error_code make_error_code(exchange_errc e) noexcept { return {static_cast<int>(e), exchange_category()}; }

std::error_condition make_error_condition(exchange_condition c) noexcept {
  return {static_cast<int>(c), exchange_category()};
}

bool unread_by_member(const std::error_code& ec) noexcept {
  // Asio reports these in a category of its own ("asio.system") that does not map them onto the
  // generic ones: both spellings are checked.
  return ec == asio::error::connection_reset || ec == asio::error::broken_pipe || ec == std::errc::connection_reset ||
         ec == std::errc::broken_pipe;
}

std::error_code classify(const exchange_facts& f) noexcept {
  if (f.internal_error) return exchange_errc::internal;
  if (f.timed_out) return exchange_errc::timed_out;
  if (f.broken) return exchange_errc::broken;
  if (f.got_end) return exchange_errc::refused;
  if (f.connect_failed) return exchange_errc::connect_failed;
  // The member closed with our bytes unread in its socket: safe, unless it answered or read body
  // bytes fcgimux no longer holds.
  const bool unread = unread_by_member(f.io);
  if (unread && !f.response_bytes && !f.body_streamed) return exchange_errc::reset_unread;
  return exchange_errc::closed;
}

}  // namespace fcgimux
