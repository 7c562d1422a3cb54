// SPDX-License-Identifier: ISC
#pragma once
// A wake-up for coroutines on one io_context: notify() wakes every current waiter, or the next
// one if none waits yet. Waiters re-check their condition after waking.

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace fcgimux {

class event_signal {
 public:
  explicit event_signal(const asio::any_io_executor& ex) : timer_(ex, asio::steady_timer::time_point::max()) {}

  void notify() {
    notified_ = true;
    timer_.cancel();
  }

  /// Returns after notify(), or when the wait is cancelled (as by the awaitable operator ||).
  asio::awaitable<void> wait() {
    if (!notified_) {
      auto [ec] = co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      (void)ec;
    }
    notified_ = false;
  }

 private:
  asio::steady_timer timer_;
  bool notified_ = false;
};

}  // namespace fcgimux
