// SPDX-License-Identifier: ISC
#pragma once
// One timer over the steps of a short exchange fcgimux starts itself (a GET_VALUES probe, a health
// check): the connect, then the answer, each within its own time.

#include <asio/awaitable.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <system_error>

namespace fcgimux {

/// When it fires, it cancels whatever `sock` is doing. Its handler refers to this object: await
/// disarm() before it goes out of scope, and before arming it again.
class step_deadline {
 public:
  explicit step_deadline(asio::generic::stream_protocol::socket& sock) : sock_(sock), timer_(sock.get_executor()) {}

  /// Starts the next step's time.
  void arm(std::chrono::milliseconds within) {
    expired_ = false;
    pending_ = true;
    timer_.expires_after(within);
    timer_.async_wait([this](const std::error_code& ec) {
      pending_ = false;
      if (ec) return;
      expired_ = true;
      std::error_code ignore;
      sock_.cancel(ignore);
    });
  }
  /// Cancels the timer and waits for its handler to have run.
  asio::awaitable<void> disarm() {
    timer_.cancel();
    while (pending_) co_await asio::post(timer_.get_executor(), asio::use_awaitable);
  }
  /// The step in progress ran out of time.
  bool expired() const noexcept { return expired_; }

 private:
  asio::generic::stream_protocol::socket& sock_;
  asio::steady_timer timer_;
  bool pending_ = false;
  bool expired_ = false;
};

}  // namespace fcgimux
