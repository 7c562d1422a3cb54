// SPDX-License-Identifier: ISC
// How an exchange failed, and the one question asked of it: safe to send to another worker?

#include "src/upstream/exchange_error.hpp"

#include <asio/error.hpp>
#include <catch2/catch.hpp>

using namespace fcgimux;

TEST_CASE("exchange errors: only a worker that provably never took the request makes it safe to resend") {
  for (auto e : {exchange_errc::connect_failed, exchange_errc::reset_unread}) {
    const std::error_code ec = e;
    INFO(ec.message());
    CHECK(ec == exchange_condition::safe_to_resend);
    CHECK(std::string(ec.category().name()) == "fcgimux.exchange");
  }
  for (auto e : {exchange_errc::closed, exchange_errc::refused, exchange_errc::broken, exchange_errc::timed_out,
                 exchange_errc::internal}) {
    const std::error_code ec = e;
    INFO(ec.message());
    CHECK_FALSE(ec == exchange_condition::safe_to_resend);
    CHECK_FALSE(ec.message().empty());
  }
  // A system error is never the condition, even the ones classify() turns into reset_unread.
  CHECK_FALSE(std::make_error_code(std::errc::connection_reset) == exchange_condition::safe_to_resend);
}

TEST_CASE("classify: what the exchange saw decides the failure") {
  const auto reset = std::make_error_code(std::errc::connection_reset);
  const auto pipe = std::make_error_code(std::errc::broken_pipe);
  CHECK(classify({.connect_failed = true, .io = {}}) == exchange_errc::connect_failed);
  CHECK(classify({.io = reset}) == exchange_errc::reset_unread);
  CHECK(classify({.io = pipe}) == exchange_errc::reset_unread);
  // As Asio's sockets report them (a category of their own).
  CHECK(classify({.io = asio::error::connection_reset}) == exchange_errc::reset_unread);
  CHECK(classify({.io = asio::error::broken_pipe}) == exchange_errc::reset_unread);
  CHECK(classify({.io = asio::error::eof}) == exchange_errc::closed);
  // The worker answered, or read body bytes fcgimux no longer has: it took the request.
  CHECK(classify({.response_bytes = true, .io = reset}) == exchange_errc::closed);
  CHECK(classify({.body_streamed = true, .io = pipe}) == exchange_errc::closed);
  // A plain end of file: the worker read everything sent and may have acted on it.
  CHECK(classify({}) == exchange_errc::closed);
  CHECK(classify({.io = std::make_error_code(std::errc::connection_aborted)}) == exchange_errc::closed);
  CHECK(classify({.got_end = true, .response_bytes = true, .io = {}}) == exchange_errc::refused);
  // The request timer and a protocol violation win over whatever the socket said.
  CHECK(classify({.broken = true, .timed_out = true, .io = reset}) == exchange_errc::timed_out);
  CHECK(classify({.broken = true, .io = reset}) == exchange_errc::broken);
  CHECK(classify({.internal_error = true, .timed_out = true, .io = {}}) == exchange_errc::internal);
}
