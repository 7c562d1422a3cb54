// SPDX-License-Identifier: ISC
#include "src/front/listener.hpp"

#include "src/base/log.hpp"
#include "src/front/client_connection.hpp"
#include "src/front/request_target.hpp"
#include "src/front/socket_address.hpp"
#include "src/front/unix_bind.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace fcgimux {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

listener::listener(asio::io_context& io, request_target& target, connection_registry& registry,
                   const std::string& address, const resolved_address& where, int backlog, const unix_access& access)
    : io_(io), target_(&target), registry_(registry), acceptor_(io) {
  if (address.rfind("unix:", 0) == 0) {
    const std::string path = address.substr(5);
    asio::generic::stream_protocol::endpoint ep{asio::local::stream_protocol::endpoint(path)};
    acceptor_.open(ep.protocol());
    // Born with its owner and mode, before listen(): no chmod or chown by name that a symlink
    // swapped in could redirect, and no client ever connects under another mode.
    bind_unix_path(acceptor_.native_handle(), path, access);
    bound_ = address;
    unix_path_ = path;  // ours: the destructor removes it
    remember_path();
  } else {
    const asio::generic::stream_protocol::endpoint ep(reinterpret_cast<const sockaddr*>(&where.address), where.length,
                                                      IPPROTO_TCP);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    // Set on the listener, Linux copies it into every accepted socket: no system call per
    // connection. Records go out as they are ready; Nagle would hold back the last small one.
    int one = 1;
    ::setsockopt(acceptor_.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    acceptor_.bind(ep);
    bound_ = socket_address(acceptor_.native_handle());
  }
  acceptor_.listen(backlog > 0 ? backlog : asio::socket_base::max_listen_connections);
}

listener::listener(asio::io_context& io, request_target& target, connection_registry& registry, int inherited_fd)
    : io_(io), target_(&target), registry_(registry), acceptor_(io) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(inherited_fd, reinterpret_cast<sockaddr*>(&ss), &len);
  const int family = ss.ss_family;
  acceptor_.assign(asio::generic::stream_protocol(family, family == AF_UNIX ? 0 : IPPROTO_TCP), inherited_fd);
  if (family != AF_UNIX) {
    int one = 1;
    ::setsockopt(inherited_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  // A unix socket file of systemd's is never unlinked here (unix_path_ stays empty).
  bound_ = socket_address(inherited_fd);
}

void listener::own_path() {
  if (bound_.rfind("unix:", 0) == 0 && bound_.rfind("unix:@", 0) != 0) {
    unix_path_ = bound_.substr(5);
    remember_path();
  }
}

void listener::remember_path() {
  struct stat st {};
  if (::lstat(unix_path_.c_str(), &st) == 0) {
    path_dev_ = st.st_dev;
    path_ino_ = st.st_ino;
  }
}

std::string canonical_address(const std::string& address, const resolved_address& where) {
  if (address.rfind("unix:", 0) == 0) return address;
  asio::ip::tcp::endpoint ep;
  std::memcpy(ep.data(), &where.address, std::min<std::size_t>(where.length, ep.capacity()));
  return ip_port(ep);
}

listener::~listener() {
  if (unix_path_.empty()) return;
  struct stat st {};
  if (::lstat(unix_path_.c_str(), &st) != 0) return;  // gone
  // Another listener's socket now (a later reload or process bound the path): theirs. Anything
  // else put in our file's place (a symbolic link swapped in) goes: unlink removes the name only,
  // never what a link points to, and the next start can bind there again.
  if (path_ino_ != 0 && S_ISSOCK(st.st_mode) && (st.st_dev != path_dev_ || st.st_ino != path_ino_)) return;
  ::unlink(unix_path_.c_str());
}

bool listener::peer_allowed(const client_connection::socket_type& sock) {
  const auto& allow = target_->front().allow;
  if (allow.empty()) return true;
  std::error_code ec;
  const auto peer = sock.remote_endpoint(ec);
  if (ec) return false;  // gone already
  const auto* sa = static_cast<const sockaddr*>(peer.data());
  const std::uint8_t* ip = nullptr;
  if (sa->sa_family == AF_INET)
    ip = reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
  if (sa->sa_family == AF_INET6)
    ip = reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
  if (!ip) return true;  // a unix socket's peer has no address: --socket-mode and owner guard it
  for (const cidr& c : allow)
    if (c.contains(ip, sa->sa_family == AF_INET6)) return true;
  std::uint64_t left_out = 0;
  if (refusal_log_.allow(left_out)) {
    asio::ip::tcp::endpoint tcp;
    std::memcpy(tcp.data(), peer.data(), std::min<std::size_t>(peer.size(), tcp.capacity()));
    log::warning("refused a connection to {} from {}: not in --allow{}", bound_, ip_port(tcp),
                 left_out ? fmt::format("; {} more refused since the last such line", left_out) : std::string());
  }
  return false;
}

void listener::start() {
  accepting_ = true;
  asio::co_spawn(io_, accept_loop(), [this](std::exception_ptr e) {
    accepting_ = false;  // the loop is over and uses this listener no more (freed later, from a handler of its own)
    if (e) log::on_exception("a listener")(e);
    registry_.listener_done();
  });
}

void listener::stop() {
  std::error_code ignore;
  acceptor_.close(ignore);
}

asio::awaitable<void> listener::accept_loop() {
  asio::steady_timer backoff(io_);
  while (acceptor_.is_open()) {
    while (registry_.count() >= registry_.limit() && acceptor_.is_open()) co_await registry_.closed().wait();
    client_connection::socket_type sock(io_);
    auto [ec] = co_await acceptor_.async_accept(sock, use_tuple);
    // A connection accepted just before stop() closed the acceptor is served (or handed over)
    // like the others: closing it here would lose it.
    if (ec == asio::error::operation_aborted || (ec && !acceptor_.is_open())) break;
    if (ec) {
      // EMFILE and friends: say so and back off instead of spinning on the same error.
      log::error("accept on {}: {}; pausing 100 ms", bound_, ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    if (!peer_allowed(sock)) {
      registry_.count_refusal(front_refusal::not_allowed);
      std::error_code ignore;
      sock.close(ignore);
      continue;
    }
    auto c = std::make_shared<client_connection>(*target_, registry_, std::move(sock));
    registry_.add(c);
    c->start();
  }
}

}  // namespace fcgimux
