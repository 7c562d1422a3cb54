// SPDX-License-Identifier: ISC
#include "src/front/client_connection.hpp"

#include "src/base/log.hpp"
#include "src/base/send_now.hpp"
#include "src/front/log_limit.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace fcgimux {
namespace {

constexpr auto connection_use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t shrink_above = 64 * 1024;
constexpr int drain_rounds = 4;  // full reads of the server's 64 KiB buffer per turn
// A busy connection's idle check comes back this often: its deadline then counts from its last
// request's end within a second, without a timer operation per request.
constexpr auto idle_recheck = std::chrono::seconds(1);

log_limit head_timeout_log;

}  // namespace

client_connection::client_connection(request_target& target, connection_registry& registry, socket_type sock)
    : target_(target), registry_(registry), sock_(std::move(sock)), session_(*this, target.front().limits) {
  target_.connection_attached();
}

client_connection::~client_connection() { target_.connection_detached(); }

void client_connection::start() {
  auto self = shared_from_this();
  const auto idle = target_.front().limits.idle_timeout;
  if (idle > clock_type::duration::zero()) arm_idle_timer(session_.idle_since() + idle);
  asio::co_spawn(
      sock_.get_executor(), [self]() { return self->read_loop(); }, log::on_exception("a front connection's reader"));
}

asio::awaitable<void> client_connection::read_loop() {
  // Records are handled synchronously, straight after each read: no view into a buffer lives
  // across a co_await. So the connection waits for readability with no buffer of its own and
  // then reads into the server's one read buffer (per event loop): an idle connection holds no
  // read memory at all (docs/performance.md#memory).
  // The reactor is edge-triggered and a readiness wait is never speculative, so the loop reads
  // first whenever bytes may be there without a new edge: on a fresh socket, after a read that
  // filled the buffer, after a pause, after a cancelled wait. A short read means the socket is
  // empty (what Asio's own reads assume: done_and_exhausted), and only then it waits.
  std::error_code ignore;
  sock_.non_blocking(true, ignore);
  std::vector<char>& big = registry_.read_buffer();
  bool may_have_bytes = true;
  while (open_) {
    if (session_.paused()) {
      while (session_.paused() && open_) co_await signal(resume_reading_).wait();
      may_have_bytes = true;
      if (!open_) break;
    }
    // Here no read is pending and everything read has been handled: the one safe moment.
    if (handing_over_ && session_.at_rest() && !writer_active_) {
      hand_off_socket();
      co_return;
    }
    std::error_code ec;
    if (!may_have_bytes) {
      std::tie(ec) = co_await sock_.async_wait(socket_type::wait_read, connection_use_tuple);
      if (ec == asio::error::operation_aborted && handing_over_ && open_) {
        may_have_bytes = true;
        continue;
      }
    }
    may_have_bytes = false;
    // Bounded, so that one fast sender cannot hold the loop: after that many full reads the
    // loop yields behind every other connection's ready handlers and reads on.
    for (int round = 0; !ec && round < drain_rounds && open_ && !session_.paused(); ++round) {
      const std::size_t n = sock_.read_some(asio::buffer(big), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        break;
      }
      if (!ec) consume({big.data(), n});
      if (n < big.size()) break;
      may_have_bytes = true;
    }
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted)
        log::debug("front connection read: {}", ec.message());
      break;
    }
    if (may_have_bytes && open_ && !session_.paused()) co_await asio::post(sock_.get_executor(), asio::use_awaitable);
  }
  close();
}

void client_connection::consume(std::string_view in) {
  if (!session_.consume(in)) {
    log::warning("closing a front connection: {}", session_.why());
    open_ = false;
    return;
  }
  flush();  // the answers to management records, refusals, --status-path
  // One integer test per read: the timer is only armed for a head that is still incomplete.
  if (session_.heads_open() != 0 && !head_timer_armed_ && open_) arm_head_timer();
}

void client_connection::arm_head_timer() {
  const auto timeout = target_.front().header_timeout;
  if (timeout <= clock_type::duration::zero()) return;
  const auto oldest = session_.oldest_head();
  if (oldest == clock_type::time_point::max()) return;
  if (!head_timer_) head_timer_ = std::make_unique<asio::steady_timer>(sock_.get_executor());
  head_timer_armed_ = true;
  head_timer_->expires_at(oldest + timeout);
  head_timer_->async_wait([self = shared_from_this()](const std::error_code& ec) {
    self->head_timer_armed_ = false;
    if (!ec) self->on_head_timer();
  });
}

void client_connection::on_head_timer() {
  if (!open_ || session_.heads_open() == 0) return;
  const auto timeout = target_.front().header_timeout;
  if (timeout > clock_type::duration::zero() && clock_type::now() < session_.oldest_head() + timeout) {
    arm_head_timer();  // the oldest head ended; the next one has time left
    return;
  }
  std::uint64_t left_out = 0;
  if (head_timeout_log.allow(left_out))
    log::warning("closing a front connection: a request's PARAMS did not end within {} s (--header-timeout){}",
                 std::chrono::duration<double>(timeout).count(),
                 left_out ? fmt::format("; {} more since the last such line", left_out) : std::string());
  registry_.count_refusal(front_refusal::header_timeout);
  close();
}

void client_connection::arm_idle_timer(clock_type::time_point at) {
  if (!idle_timer_) idle_timer_ = std::make_unique<asio::steady_timer>(sock_.get_executor());
  idle_timer_->expires_at(at);
  idle_timer_->async_wait([self = shared_from_this()](const std::error_code& ec) {
    if (!ec) self->on_idle_timer();
  });
}

void client_connection::on_idle_timer() {
  if (!open_) return;
  const auto idle = target_.front().limits.idle_timeout;
  const auto now = clock_type::now();
  if (idle <= clock_type::duration::zero()) return;  // a reload turned it off
  if (session_.open_requests() != 0 || writer_active_)
    return arm_idle_timer(now + std::min<clock_type::duration>(idle, idle_recheck));
  if (now < session_.idle_since() + idle) return arm_idle_timer(session_.idle_since() + idle);
  log::debug("closing a front connection with no request for {} s (--front-idle-timeout)",
             std::chrono::duration<double>(idle).count());
  registry_.count_refusal(front_refusal::idle_timeout);
  close();
}

void client_connection::flush() {
  if (!open_) return;
  if (writer_active_) {
    update_output_pause();
    return;
  }
  std::string& out = session_.output();
  if (!out.empty()) {
    // Only what the front cannot take at once goes to a writer coroutine.
    std::string_view unsent = out;
    if (auto ec = send_now(sock_.native_handle(), unsent)) {
      log::debug("front connection write: {}", ec.message());
      close();
      return;
    }
    out.erase(0, out.size() - unsent.size());
    if (!out.empty()) {
      writer_active_ = true;
      asio::co_spawn(sock_.get_executor(), write_rest(), log::on_exception("a front connection's writer"));
      update_output_pause();
      return;
    }
    session_.resume(front_session::pause_output);
    // An idle kept-alive connection should not hold on to the memory of its largest answer.
    if (out.capacity() > shrink_above && session_.open_requests() == 0) std::string().swap(out);
  }
  if (session_.close_after_flush())
    close();
  else if (handing_over_)
    hand_over_if_at_rest();
}

asio::awaitable<void> client_connection::write_rest() {
  auto self = shared_from_this();  // the writer may outlive the reader while it flushes
  std::error_code ec;
  // Piece by piece, not one async_write: every byte the front takes restarts --send-timeout.
  while (open_ && !ec && (written_ < writing_.size() || !session_.output().empty())) {
    if (written_ == writing_.size()) {
      writing_.clear();
      written_ = 0;
      std::swap(session_.output(), writing_);
    }
    arm_send_timer();
    std::size_t n;
    std::tie(ec, n) = co_await sock_.async_write_some(
        asio::buffer(writing_.data() + written_, writing_.size() - written_), connection_use_tuple);
    written_ += n;
    notify(writable_);
    update_output_pause();
  }
  writing_.clear();
  written_ = 0;
  // A kept-alive connection should not hold on to the memory of its largest answer.
  if (writing_.capacity() > shrink_above) writing_.shrink_to_fit();
  if (send_timer_) send_timer_->cancel();
  writer_active_ = false;
  if (ec || session_.close_after_flush())
    close();
  else if (handing_over_)
    hand_over_if_at_rest();
}

void client_connection::arm_send_timer() {
  const auto timeout = target_.front().send_timeout;
  if (timeout <= clock_type::duration::zero()) return;
  if (!send_timer_) send_timer_ = std::make_unique<asio::steady_timer>(sock_.get_executor());
  send_timer_->expires_after(timeout);
  send_timer_->async_wait([self = shared_from_this()](const std::error_code& ec) {
    if (ec || !self->open_) return;
    log::warning("closing a front connection that took no output for {} s (--send-timeout)",
                 std::chrono::duration<double>(self->target_.front().send_timeout).count());
    self->close();
  });
}

void client_connection::close() {
  if (!sock_.is_open() && !open_) return;
  open_ = false;
  std::error_code ignore;
  sock_.close(ignore);  // no shutdown() first: close sends the same EOF, one system call less
  if (send_timer_) send_timer_->cancel();
  if (head_timer_) head_timer_->cancel();
  if (idle_timer_) idle_timer_->cancel();
  notify(writable_);
  notify(resume_reading_);
  session_.close();
  registry_.remove(this);
}

std::shared_ptr<request> client_connection::open_request(std::uint16_t id, bool keep_conn) {
  return target_.open_request(weak_from_this(), id, keep_conn);
}

void client_connection::request_refused(std::uint16_t, proto::protocol_status) { target_.request_refused(); }

bool client_connection::taking_requests() const { return target_.taking_requests(); }

void client_connection::request_unavailable(request& r) { target_.request_unavailable(r); }

void client_connection::request_ready(const std::shared_ptr<request>& r) { target_.request_ready(r); }

void client_connection::status_request(request& r) { target_.status_request(r); }

void client_connection::request_gone(const std::shared_ptr<request>& r) { target_.request_gone(r); }

void client_connection::end_request(request& r, std::uint32_t app_status, proto::protocol_status status) {
  if (!open_) return;
  session_.end_request(r, app_status, status);
  flush();
}

void client_connection::abandon(request& r) {
  session_.abandon(r);
  flush();
}

void client_connection::close_after_flush() {
  session_.set_close_after_flush();
  flush();
}

void client_connection::hand_over() {
  handing_over_ = true;
  hand_over_if_at_rest();
}

void client_connection::hand_over_if_at_rest() {
  if (!open_ || writer_active_ || !session_.at_rest()) return;
  std::error_code ignore;
  sock_.cancel(ignore);
}

void client_connection::hand_off_socket() {
  std::error_code ec;
  const int fd = sock_.release(ec);
  if (ec) {
    close();
    return;
  }
  open_ = false;
  if (send_timer_) send_timer_->cancel();
  if (head_timer_) head_timer_->cancel();
  if (idle_timer_) idle_timer_->cancel();
  session_.close();  // at rest: no request to give up
  registry_.hand_off(*this, fd, target_);
  registry_.remove(this);
}

void client_connection::drain() {
  session_.drain();
  flush();
}

void client_connection::update_output_pause() {
  // Management answers and refusals are produced by reading: a front that floods them and never
  // reads must stop being read, or its answers would pile up without bound.
  if (congested())
    session_.pause(front_session::pause_output);
  else
    session_.resume(front_session::pause_output);
}

bool client_connection::congested() const noexcept {
  return session_.output().size() + writing_.size() - written_ > target_.front().output_buffer;
}

asio::awaitable<void> client_connection::wait_writable() {
  auto self = shared_from_this();
  flush();
  if (open_ && congested()) co_await signal(writable_).wait();
}

event_signal& client_connection::signal(std::unique_ptr<event_signal>& s) {
  if (!s) s = std::make_unique<event_signal>(sock_.get_executor());
  return *s;
}

}  // namespace fcgimux
