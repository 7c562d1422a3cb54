// SPDX-License-Identifier: ISC
// SIGUSR2: the running fcgimux hands its listeners to a new process started from the binary on
// disk, and leaves once that one serves. Until then nothing changes here, so a new binary that
// fails in any way costs nothing. docs/operations.md tells the sequence.

#include "src/admin/stats_server.hpp"
#include "src/app/server.hpp"
#include "src/base/log.hpp"
#include "src/front/client_connection.hpp"
#include "src/front/listener.hpp"

#include <asio/read.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

namespace fcgimux {

using namespace std::chrono_literals;

namespace {
// For a new process given up to end after SIGTERM: it took no request, so it only stops its workers.
constexpr auto abandon_grace = 10s;
}  // namespace

void server::upgrade() {
  if (stopping_ || st_.stopping) {
    log::info("SIGUSR2 while stopping: ignored");
    return;
  }
  if (upgrade_pid_ > 0) {
    log::info("SIGUSR2: the new process {} is still starting; ignored", upgrade_pid_);
    return;
  }
  std::vector<handover_socket> sockets;
  for (auto& b : listeners_) sockets.push_back({b.l->native_handle(), b.pool, b.l->owns_path()});
  if (stats_server_) sockets.push_back({stats_server_->native_handle(), std::string(stats_socket_name), false});
  std::error_code ec;
  const upgrade_child child = start_upgrade(image_, sockets, notify_.socket_path(), ec);
  if (ec) {
    upgrade_failed(fmt::format("cannot start {}: {}", image_.exe, ec.message()));
    return;
  }
  const int pid = child.pid;
  upgrade_pid_ = pid;
  st_.upgrade.state = upgrade_phase::starting;
  st_.upgrade.pid = pid;
  log::notice("SIGUSR2: started {} as pid {}; it takes over once its workers are ready (within {} s)", image_.exe, pid,
              cfg_.upgrade_timeout.count());
  notify_.send(fmt::format("STATUS=upgrading: new process {} starting", pid));

  upgrade_channel_ = std::make_unique<asio::posix::stream_descriptor>(io_, child.channel_fd);
  asio::async_read(*upgrade_channel_, asio::buffer(&upgrade_byte_, 1),
                   [this, pid](const std::error_code& e, std::size_t) {
                     // EOF without the byte: the new process ended, and the reaper says how.
                     if (!e && pid == upgrade_pid_) hand_over(pid);
                   });
  reaper_.watch(pid, [this, pid](int status) {
    if (pid == upgrade_pid_)
      upgrade_failed(fmt::format("the new process {} {} before it was ready", pid, describe_exit(status)));
  });
  upgrade_timer_.expires_after(to_duration(cfg_.upgrade_timeout));
  upgrade_timer_.async_wait([this, pid](const std::error_code& e) {
    if (e || pid != upgrade_pid_) return;
    upgrade_failed(fmt::format("the new process {} was not ready within {} s", pid, cfg_.upgrade_timeout.count()));
  });
}

void server::upgrade_failed(const std::string& why) {
  const int pid = upgrade_pid_;
  upgrade_pid_ = 0;
  upgrade_timer_.cancel();
  upgrade_channel_.reset();
  ++st_.counts.upgrades_failed;
  st_.upgrade.state = upgrade_phase::failed;
  st_.upgrade.pid = 0;
  st_.upgrade.last_error = why;
  log::error("SIGUSR2: upgrade failed: {}{}", why, stopping_ ? "" : "; this process goes on serving");
  if (!stopping_) notify_.send("STATUS=upgrade failed; serving as before");
  abandon(pid);
}

void server::abandon(int pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return;  // already reaped
  ::kill(pid, SIGTERM);
  auto timer = std::make_shared<asio::steady_timer>(io_, abandon_grace);
  reaper_.watch(pid, [timer](int) { timer->cancel(); });
  timer->async_wait([pid, timer, this](const std::error_code& e) {
    if (e) return;
    log::warning("SIGUSR2: the given-up process {} ignored SIGTERM; killing it", pid);
    ::kill(pid, SIGKILL);
    reaper_.forget(pid);  // still reaped, silently
  });
}

void server::hand_over(int pid) {
  upgrade_pid_ = 0;
  upgrade_timer_.cancel();
  // From now on the channel carries front connections, one message each, sent on the loop.
  handoff_ = std::make_unique<connection_handoff>(io_, upgrade_channel_->release(), [this] { poke(); });
  upgrade_channel_.reset();
  reaper_.forget(pid);  // it outlives this process
  ++st_.counts.upgrades_ok;
  st_.upgrade.state = upgrade_phase::handed_over;
  handed_over_ = true;
  // The new process wrote the pid file; systemd follows it as the service's main process.
  notify_.send(fmt::format("MAINPID={}\nSTATUS=handed over to pid {}", pid, pid));
  log::notice("SIGUSR2: pid {} serves now; finishing {} requests in flight here, then exiting", pid, live_requests());
  // The sockets live on in the new process: closing them here loses nothing in their backlogs.
  for (auto& b : listeners_) b.l->keep_path();
  if (stats_server_) stats_server_->stop();
  begin_shutdown();
}

void server::hand_off(client_connection&, int fd, request_target& target) {
  std::string name;
  for (pool* p : all_pools())
    if (static_cast<request_target*>(p) == &target) name = p->name();
  if (!handoff_) {
    log::warning("SIGUSR2: a front connection could not be passed to the new process; closing it");
    ::close(fd);
    return;
  }
  handoff_->send(fd, std::move(name));
}

void server::adopt_connections() {
  if (!upgrade_channel_) upgrade_channel_ = std::make_unique<asio::posix::stream_descriptor>(io_, role_.channel_fd);
  upgrade_channel_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const std::error_code& ec) {
    if (ec) return;
    std::string name;
    bool eof = false;
    for (int fd; (fd = receive_connection(upgrade_channel_->native_handle(), name, eof)) >= 0;) {
      pool* p = find_pool(name);
      if (!p) {
        log::warning("a front connection of pool \"{}\", which this configuration has not, is closed", name);
        ::close(fd);
        continue;
      }
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
      const int family = ss.ss_family;
      client_connection::socket_type sock(
          io_, asio::generic::stream_protocol(family, family == AF_UNIX ? 0 : IPPROTO_TCP), fd);
      auto c = std::make_shared<client_connection>(*p, *this, std::move(sock));
      add(c);
      c->start();
      if (stopping_) c->drain();
    }
    if (eof) {
      upgrade_channel_.reset();  // the old process is gone: every connection came over
      return;
    }
    adopt_connections();
  });
}

}  // namespace fcgimux
