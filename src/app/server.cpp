#include "src/app/server.hpp"

#include "src/front/client_connection.hpp"
#include "src/base/invariant.hpp"
#include "src/front/listener.hpp"
#include "src/base/log.hpp"
#include "src/core/request.hpp"
#include "src/admin/stats_server.hpp"

#include <fmt/ranges.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace fcgimux {

using namespace std::chrono_literals;

server::server(asio::io_context& io_, config cfg_)
    : io(io_),
      cfg(std::move(cfg_)),
      front{cfg.max_params, cfg.max_reqs, cfg.max_conns, cfg.body_buffer, cfg.status_path},
      pool(*this),
      sched(*this),
      signals_(io_, SIGTERM, SIGINT),
      drain_timer_(io_),
      connection_closed_(io_.get_executor()) {}

server::~server() {
  if (!runtime_dir_.empty()) {
    std::error_code ignore;
    std::filesystem::remove_all(runtime_dir_, ignore);
  }
}

void server::make_runtime_dir() {
  const char* base = std::getenv("XDG_RUNTIME_DIR");
  if (!base || !*base || ::access(base, W_OK) != 0) base = std::getenv("TMPDIR");
  if (!base || !*base) base = "/tmp";
  std::string templ = std::string(base) + "/fcgimux.XXXXXX";
  if (!::mkdtemp(templ.data()))
    throw std::system_error(errno, std::system_category(), "cannot create a runtime directory in " + std::string(base));
  runtime_dir_ = templ;  // mkdtemp makes it 0700: only fcgimux's user reaches the worker sockets
}

void server::start() {
  // Workers get default handlers back before exec (worker_process.cpp).
  std::signal(SIGPIPE, SIG_IGN);
  for (const auto& a : cfg.listen) {
    try {
      listeners_.push_back(std::make_unique<listener>(*this, a));
    } catch (const std::system_error& e) {
      throw std::system_error(e.code(), "cannot listen on " + a);
    }
  }
  if (cfg.stats != "off") {
    bool v6 = false;
    auto gep = resolve_tcp(cfg.stats, v6);
    asio::ip::tcp::endpoint ep;
    std::memcpy(ep.data(), gep.data(), gep.size());
    try {
      stats_server_ = std::make_unique<stats_server>(io, st, ep);
    } catch (const std::system_error& e) {
      throw std::system_error(e.code(), "cannot serve stats on " + cfg.stats);
    }
  }
  st.pool_view = [this](bool full) { return snapshot(full); };
  make_runtime_dir();
  // The stats line comes first: tools wait for "listening on" and then read both.
  if (stats_server_) {
    stats_server_->start();
    auto ep = stats_server_->local_endpoint();
    log::info("stats on {}:{}", ep.address().to_string(), ep.port());
  }
  for (auto& l : listeners_) {
    l->start();
    log::info("listening on {}", l->address());
  }
  pool.start(runtime_dir_);
  log::info("pool of {}{} workers: {}", cfg.workers,
            cfg.max_workers > cfg.workers ? fmt::format(" to {}", cfg.max_workers) : std::string(),
            fmt::join(cfg.command, " "));
  wait_signal();
}

void server::wait_signal() {
  signals_.async_wait([this](const std::error_code& ec, int sig) {
    if (ec) return;
    if (!stopping_) {
      log::info("{}: finishing {} requests in flight, then stopping", sig == SIGINT ? "SIGINT" : "SIGTERM",
                live_requests);
      begin_shutdown();
    } else {
      log::info("second signal: stopping now");
      drain_deadline_ = clock_type::now();
    }
    wait_signal();
  });
}

void server::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  for (auto& l : listeners_) l->stop();
  pool.stop_spawning();
  // Idle kept connections close now, so that a web server opens its next one elsewhere; the
  // others after their last request, and requests that still come on them are served.
  for (auto& c : open_connections()) c->drain();
  drain_deadline_ = clock_type::now() + to_duration(cfg.shutdown_timeout);
  drain_step();
}

void server::drain_step() {
  auto now = clock_type::now();
  if (!workers_stopping_ && (live_requests == 0 || now >= drain_deadline_)) {
    if (live_requests > 0) log::info("shutdown timeout: {} requests cut off", live_requests);
    sched.fail_all("fcgimux is shutting down");
    // An answer may still sit in a connection's output: let each flush, then close.
    for (auto& c : open_connections()) c->close_after_flush();
    workers_stopping_ = true;
    pool.stop_all();
    drain_deadline_ = now + to_duration(cfg.stop_grace) + 2s;
  }
  if (workers_stopping_ && ((pool.all_gone() && conns_.empty()) || now >= drain_deadline_)) {
    // A forced stop (second signal, or workers deaf to SIGTERM) must not leave workers behind.
    if (!pool.all_gone()) pool.kill_all();
    if (stats_server_) stats_server_->stop();
    sched.stop();
    signals_.cancel();
    log::info("stopped");
    io.stop();
    return;
  }
  drain_timer_.expires_after(20ms);
  drain_timer_.async_wait([this](const std::error_code& ec) {
    if (!ec) drain_step();
  });
}

std::vector<std::shared_ptr<client_connection>> server::open_connections() const {
  // A copy: closing a connection removes it from conns_.
  std::vector<std::shared_ptr<client_connection>> open;
  for (auto& [p, w] : conns_)
    if (auto c = w.lock()) open.push_back(c);
  return open;
}

void server::add_connection(const std::shared_ptr<client_connection>& c) {
  conns_[c.get()] = c;
  ++st.c.connections_accepted;
  ++st.c.connections_active;
}

void server::remove_connection(client_connection* c) {
  if (conns_.erase(c)) {
    --st.c.connections_active;
    connection_closed_.notify();
  }
}

void server::on_request_done(int http_status) {
  FCGIMUX_INVARIANT(live_requests > 0, "a request ends once");
  --live_requests;
  ++st.c.requests_completed;
  if (http_status > 0) st.record_status(http_status);
}

pool_snapshot server::snapshot(bool full) const {
  pool_snapshot s;
  pool_counts p = pool.counts();
  s.min = cfg.workers;
  s.max = cfg.max_workers;
  s.size = p.live;
  s.starting = p.starting;
  s.idle = p.idle;
  s.busy = pool.busy_count();
  s.queue_length = sched.length();
  s.queue_limit = cfg.queue_limit;
  s.can_serve =
      !stopping_ && !pool.cannot_serve() && (p.idle > 0 || s.busy > 0 || p.live < cfg.max_workers || p.starting > 0);
  if (full) s.workers = pool.describe();
  return s;
}

}  // namespace fcgimux
