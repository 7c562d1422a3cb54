// SPDX-License-Identifier: ISC
// GCC 12 pairs a coroutine frame's class operator delete with the aligned_alloc inside Asio's
// operator new and warns; the two do match (Asio frees with std::free). A false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "src/admin/stats_server.hpp"

#include "src/admin/http_request_parser.hpp"
#include "src/admin/stats_routes.hpp"
#include "src/base/log.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <sys/socket.h>

#include <array>
#include <exception>
#include <list>
#include <string>
#include <string_view>
#include <utility>

namespace fcgimux {

namespace {

using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto nothrow_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

void log_exception(std::string_view where, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error("stats server {}: {}", where, ex.what());
  } catch (...) {
    log::error("stats server {}: unknown exception", where);
  }
}

// One connection. It lives in impl::sessions_ (a list: its address stays put) so that stop() and
// the connection limit can reach its socket while its coroutine owns the rest.
struct stats_session_slot {
  explicit stats_session_slot(tcp::socket s) : sock(std::move(s)) {}
  tcp::socket sock;
  bool waiting = true;  ///< reading a head or idle between requests: may be closed to make room
  clock_type::time_point waiting_since = clock_type::now();
  bool evicted = false;
};

}  // namespace

struct stats_server::impl : std::enable_shared_from_this<impl> {
  using slot_iterator = std::list<stats_session_slot>::iterator;

  impl(asio::io_context& io, stats& s, const tcp::endpoint& ep) : stats_(s), acceptor_(io) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
  }
  impl(asio::io_context& io, stats& s, int listening_fd) : stats_(s), acceptor_(io) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&ss), &len);
    acceptor_.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listening_fd);
  }

  awaitable<void> accept_loop(std::shared_ptr<impl> self);
  awaitable<void> session(std::shared_ptr<impl> self, slot_iterator slot);
  awaitable<bool> send(tcp::socket& sock, asio::steady_timer& timer, const stats_response& r, bool head_only,
                       bool keep_alive_10);
  awaitable<void> linger_close(tcp::socket& sock, asio::steady_timer& timer);
  bool evict_oldest_waiting();
  void refuse(tcp::socket sock);
  bool address_allowed(const tcp::endpoint& peer) const;
  void stop();

  stats& stats_;
  stats_history* history_ = nullptr;
  tcp::acceptor acceptor_;
  asio::steady_timer sample_timer_{acceptor_.get_executor()};
  limits limits_;
  stats_access access_;
  std::list<stats_session_slot> sessions_;  ///< every connection from accept to its end
  std::size_t evicted_ = 0;                 ///< closed to make room and not yet ended
  bool stopped_ = false;
  bool refusing_ = false;  ///< logged the connection limit once; cleared when a session ends
};

awaitable<void> stats_server::impl::accept_loop(std::shared_ptr<impl> self) {
  asio::steady_timer backoff(acceptor_.get_executor());
  while (!stopped_) {
    auto [ec, sock] = co_await acceptor_.async_accept(nothrow_awaitable);
    if (ec) {
      if (stopped_ || ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // EMFILE and friends: wait instead of spinning on a listener that stays readable
      log::error("stats server accept: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(nothrow_awaitable);
      continue;
    }
    if (sessions_.size() - evicted_ >= limits_.max_connections && !evict_oldest_waiting()) {
      refuse(std::move(sock));
      continue;
    }
    const slot_iterator slot = sessions_.emplace(sessions_.end(), std::move(sock));
    asio::co_spawn(acceptor_.get_executor(), session(self, slot),
                   [](std::exception_ptr e) { log_exception("session", e); });
  }
}

// At the limit, the connection that has waited longest for a request head (a slow or idle client)
// is closed for the new one, as nginx reuses its idle keep-alive connections: slow clients can
// never lock out a liveness probe. Only when every connection is being answered is one refused.
bool stats_server::impl::evict_oldest_waiting() {
  stats_session_slot* oldest = nullptr;
  for (stats_session_slot& s : sessions_)
    if (s.waiting && !s.evicted && (!oldest || s.waiting_since < oldest->waiting_since)) oldest = &s;
  if (!oldest) return false;
  if (!refusing_) {
    log::warning("stats server: {} connections open, closing the one idle longest for each new one", sessions_.size());
    refusing_ = true;
  }
  oldest->evicted = true;
  ++evicted_;
  asio::error_code ec;
  oldest->sock.shutdown(tcp::socket::shutdown_both, ec);
  oldest->sock.close(ec);  // its pending read ends, and with it its session
  return true;
}

// Over the limit: a best-effort 503 written without waiting, then close; nothing is allocated.
void stats_server::impl::refuse(tcp::socket sock) {
  static constexpr std::string_view busy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 27\r\n"
      "Retry-After: 1\r\nConnection: close\r\n\r\ntoo many stats connections\n";
  if (!refusing_) {
    log::warning("stats server: {} connections open and answering, refusing more", sessions_.size());
    refusing_ = true;
  }
  asio::error_code ec;
  sock.non_blocking(true, ec);
  sock.write_some(asio::buffer(busy), ec);
  sock.shutdown(tcp::socket::shutdown_both, ec);
  sock.close(ec);
}

bool stats_server::impl::address_allowed(const tcp::endpoint& peer) const {
  const asio::ip::address a = peer.address();
  if (a.is_v4()) return access_.address_allowed(a.to_v4().to_bytes().data(), false);
  return access_.address_allowed(a.to_v6().to_bytes().data(), true);
}

awaitable<bool> stats_server::impl::send(tcp::socket& sock, asio::steady_timer& timer, const stats_response& r,
                                         bool head_only, bool keep_alive_10) {
  const std::string head = serialize_head(r, keep_alive_10);
  std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(r.body())};
  if (head_only) bufs[1] = asio::const_buffer{};
  timer.expires_after(limits_.write_timeout);
  auto result = co_await (asio::async_write(sock, bufs, nothrow_awaitable) || timer.async_wait(nothrow_awaitable));
  if (result.index() != 0) co_return false;  // the client did not take the response in time
  auto [ec, n] = std::get<0>(result);
  co_return !ec;
}

// Closing with unread input makes the kernel send RST, which can destroy the response we just
// wrote before the client reads it; half-close and drain briefly first (nginx's lingering close).
awaitable<void> stats_server::impl::linger_close(tcp::socket& sock, asio::steady_timer& timer) {
  asio::error_code ec;
  sock.shutdown(tcp::socket::shutdown_send, ec);
  timer.expires_after(std::min<std::chrono::milliseconds>(limits_.head_timeout, std::chrono::seconds(2)));
  std::array<char, 4096> sink;
  std::size_t drained = 0;
  while (!ec && drained < 256 * 1024) {
    auto result =
        co_await (sock.async_read_some(asio::buffer(sink), nothrow_awaitable) || timer.async_wait(nothrow_awaitable));
    if (result.index() != 0) break;
    std::size_t n = 0;
    std::tie(ec, n) = std::get<0>(result);
    drained += n;
  }
  sock.close(ec);
}

// `self` only keeps the impl alive while the session runs.
awaitable<void> stats_server::impl::session([[maybe_unused]] std::shared_ptr<impl> self, slot_iterator slot) {
  struct registration {
    impl& owner;
    slot_iterator it;
    ~registration() {
      if (it->evicted) --owner.evicted_;
      owner.sessions_.erase(it);
      owner.refusing_ = false;
    }
  } reg{*this, slot};
  if (stopped_) co_return;
  tcp::socket& sock = slot->sock;

  asio::error_code ec;
  sock.set_option(tcp::no_delay(true), ec);
  const tcp::endpoint peer = sock.remote_endpoint(ec);
  if (ec) co_return;  // gone already
  asio::steady_timer timer(sock.get_executor());
  http_request_parser parser({.max_head_bytes = limits_.max_head_bytes});
  std::array<char, 4096> chunk;
  std::string_view unread;  // read and not yet parsed: the start of a pipelined request

  while (!stopped_) {
    // The deadline covers the whole head (a client trickling bytes gains nothing) and, before the
    // first byte, the keep-alive idle time.
    timer.expires_after(limits_.head_timeout);
    slot->waiting = true;
    slot->waiting_since = clock_type::now();
    http_parse_result parsed = parser.feed(unread);
    unread.remove_prefix(parsed.consumed);
    while (parsed.status == http_parse_status::need_more) {
      auto result = co_await (sock.async_read_some(asio::buffer(chunk), nothrow_awaitable) ||
                              timer.async_wait(nothrow_awaitable));
      if (result.index() != 0) {
        slot->waiting = false;
        if (parser.started() && !stopped_) {  // a request was under way: tell the client why it ends
          if (co_await send(sock, timer, stats_error_response(408, true), false, false))
            co_await linger_close(sock, timer);
        }
        co_return;
      }
      auto [rec, n] = std::get<0>(result);
      if (rec || slot->evicted) co_return;  // EOF, reset, stop() or closed for a newer client
      parsed = parser.feed(std::string_view(chunk.data(), n));
      unread = std::string_view(chunk.data(), n).substr(parsed.consumed);
    }
    slot->waiting = false;

    stats_response r;
    const http_request& req = parser.request();
    if (parsed.status == http_parse_status::error) {
      r = stats_error_response(http_status(parser.error()), true);
    } else {
      try {
        r = route_stats_request(stats_, history_, req, access_, address_allowed(peer));
      } catch (const std::exception& ex) {  // rendering allocates; fail this answer, not the server
        log::error("stats server rendering {}: {}", req.path, ex.what());
        r = stats_error_response(500, true);
      }
    }
    const bool head_only = parsed.status == http_parse_status::done && req.method == "HEAD";
    const bool keep_alive_10 = parsed.status == http_parse_status::done && req.minor_version == 0 && !r.close;
    // A pipelined request still unread sits in `chunk`, which nothing writes to before the next
    // read: the answer is sent first, and the next head is parsed from `unread` after it.
    if (!co_await send(sock, timer, r, head_only, keep_alive_10)) co_return;
    if (r.close) {
      co_await linger_close(sock, timer);
      co_return;
    }
  }
}

void stats_server::impl::stop() {
  stopped_ = true;
  sample_timer_.cancel();
  asio::error_code ec;
  acceptor_.close(ec);
  for (stats_session_slot& s : sessions_) {
    s.sock.shutdown(tcp::socket::shutdown_both, ec);
    s.sock.close(ec);
  }
}

stats_server::stats_server(asio::io_context& io, stats& s, const tcp::endpoint& ep)
    : impl_(std::make_shared<impl>(io, s, ep)) {}

stats_server::stats_server(asio::io_context& io, stats& s, int listening_fd)
    : impl_(std::make_shared<impl>(io, s, listening_fd)) {}

stats_server::~stats_server() { impl_->stop(); }

int stats_server::native_handle() { return impl_->acceptor_.native_handle(); }

tcp::endpoint stats_server::local_endpoint() const {
  asio::error_code ec;
  return impl_->acceptor_.local_endpoint(ec);
}

void stats_server::set_limits(const limits& l) { impl_->limits_ = l; }

void stats_server::set_access(stats_access a) { impl_->access_ = std::move(a); }

void stats_server::start() {
  asio::co_spawn(impl_->acceptor_.get_executor(), impl_->accept_loop(impl_),
                 [](std::exception_ptr e) { log_exception("accept loop", e); });
}

void stats_server::stop() { impl_->stop(); }

void stats_server::set_history(stats_history& h) { impl_->history_ = &h; }

void stats_server::start_sampling() {
  if (!impl_->history_) return;
  // A fixed cadence from the first sample, not from each handler's run: the series stays on
  // whole seconds however late a turn of the loop runs it.
  struct sampler {
    std::shared_ptr<impl> self;
    clock_type::time_point next;
    void operator()(const std::error_code& ec) {
      if (ec || self->stopped_) return;
      const auto now = clock_type::now();
      self->history_->take(now);
      self->stats_.sample_saturation();
      next += stats_history::interval;
      if (next < now) next = now + stats_history::interval;
      self->sample_timer_.expires_at(next);
      self->sample_timer_.async_wait(std::move(*this));
    }
  };
  sampler{impl_, clock_type::now()}(std::error_code{});
}

}  // namespace fcgimux
