// SPDX-License-Identifier: ISC
#include "src/app/connection_handoff.hpp"

#include "src/app/upgrade.hpp"
#include "src/base/log.hpp"

#include <unistd.h>

namespace fcgimux {

namespace {
constexpr auto patience = std::chrono::seconds(1);
}

connection_handoff::connection_handoff(asio::io_context& io, int channel_fd, std::function<void()> on_idle)
    : on_idle_(std::move(on_idle)), channel_(io, channel_fd), patience_(io) {}

connection_handoff::~connection_handoff() {
  for (auto& p : queue_) ::close(p.fd);
}

void connection_handoff::send(int fd, std::string pool) {
  queue_.push_back({fd, std::move(pool)});
  if (!waiting_ && queue_.size() == 1) head_since_ = {};
  if (!waiting_) pump();
}

void connection_handoff::give_up_head(const char* why) {
  log::warning("SIGUSR2: a front connection could not be passed to the new process ({}); closing it", why);
  ::close(queue_.front().fd);
  queue_.pop_front();
  head_since_ = {};
}

void connection_handoff::pump() {
  while (!queue_.empty()) {
    pending& head = queue_.front();
    switch (send_connection(channel_.native_handle(), head.fd, head.pool)) {
      case handoff_result::sent:
        queue_.pop_front();  // send_connection closed our copy
        head_since_ = {};
        continue;
      case handoff_result::failed: give_up_head("the channel failed"); continue;
      case handoff_result::full: break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (head_since_ == std::chrono::steady_clock::time_point{}) head_since_ = now;
    if (now - head_since_ >= patience) {
      give_up_head("the channel took nothing for a second");
      continue;
    }
    wait_writable();
    return;
  }
  if (on_idle_) on_idle_();
}

void connection_handoff::wait_writable() {
  waiting_ = true;
  const std::uint64_t gen = ++wait_generation_;
  // Whichever comes first, the channel taking more or the second running out, pumps again; the
  // other is cancelled, and its handler finds a newer generation or no wait at all.
  auto resume = [this, gen] {
    if (!waiting_ || gen != wait_generation_) return;
    waiting_ = false;
    std::error_code ignore;
    channel_.cancel(ignore);
    patience_.cancel();
    pump();
  };
  channel_.async_wait(asio::posix::stream_descriptor::wait_write, [resume](const std::error_code& ec) {
    if (ec != asio::error::operation_aborted) resume();
  });
  patience_.expires_at(head_since_ + patience);
  patience_.async_wait([resume](const std::error_code& ec) {
    if (!ec) resume();
  });
}

}  // namespace fcgimux
