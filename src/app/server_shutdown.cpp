// SPDX-License-Identifier: ISC
// The signals that reload or stop fcgimux (SIGHUP, SIGTERM/SIGINT/SIGQUIT) and the drain a stop
// runs: listeners closed, requests finished within --shutdown-timeout, then members stopped.
#include "src/app/server.hpp"

#include "src/admin/stats_server.hpp"
#include "src/base/log.hpp"
#include "src/front/client_connection.hpp"
#include "src/front/listener.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>

namespace fcgimux {

using namespace std::chrono_literals;

void server::wait_hangup() {
  hangup_.async_wait([this](const std::error_code& ec, int) {
    if (ec) return;
    if (stopping_ || st_.stopping) {
      log::info("SIGHUP while stopping: ignored");
    } else {
      reload();
    }
    wait_hangup();
  });
}

void server::wait_signal() {
  signals_.async_wait([this](const std::error_code& ec, int sig) {
    if (ec) return;
    const char* name = sig == SIGINT ? "SIGINT" : sig == SIGQUIT ? "SIGQUIT" : "SIGTERM";
    if (!stopping_ && !st_.stopping && cfg_.shutdown_delay > seconds{0}) {
      begin_shutdown_delay(name);
    } else if (!stopping_ && !st_.stopping) {
      log::notice("{}: finishing {} requests in flight, then stopping", name, live_requests());
      begin_shutdown();
    } else if (!stopping_) {
      log::info("second signal during --shutdown-delay: stopping now");
      shutdown_delay_timer_.cancel();
      begin_shutdown();
      drain_deadline_ = clock_type::now();
      drain_step();
    } else {
      log::info("second signal: stopping now");
      drain_deadline_ = clock_type::now();
      drain_step();
    }
    wait_signal();
  });
}

std::size_t server::live_requests() const noexcept {
  std::size_t n = 0;
  for (auto& p : all_pools()) n += p->live_requests();
  return n;
}

std::vector<pool*> server::all_pools() const {
  std::vector<pool*> all;
  for (auto& p : pools_) all.push_back(p.get());
  for (auto& p : retired_) all.push_back(p.get());
  return all;
}

void server::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  st_.stopping = true;
  shutdown_delay_timer_.cancel();
  watching_ready_ = false;
  if (upgrade_pid_ > 0) upgrade_failed("fcgimux is stopping");
  // After a handover the service goes on in the new process; one that never took over is not the service.
  if (!handed_over_ && !role_.active())
    notify_.send(fmt::format("STOPPING=1\nSTATUS=stopping: {} requests in flight", live_requests()));
  for (auto& b : listeners_) b.l->stop();
  for (auto& p : pools_) p->begin_stop();
  // Idle kept connections close now, so that a web server opens its next one elsewhere; the
  // others after their last request, and requests that still come on them are served.
  // After a handover they go to the new process once at rest, so the front never sees one close.
  for (auto& c : open_connections()) handed_over_ ? c->hand_over() : c->drain();
  drain_deadline_ = clock_type::now() + to_duration(cfg_.shutdown_timeout);
  drain_step();
}

void server::drain_step() {
  if (stopped_) return;
  auto now = clock_type::now();
  // After a hand-over, connections still queued for the new process count as open ones.
  const bool handoffs_done = !handoff_ || handoff_->idle();
  const bool drained = handed_over_ ? conns_.empty() && handoffs_done : live_requests() == 0;
  if (!workers_stopping_ && (drained || now >= drain_deadline_)) {
    if (live_requests() > 0) log::warning("shutdown timeout: {} requests cut off", live_requests());
    for (auto& p : all_pools()) p->fail_waiting("fcgimux is shutting down");
    // An answer may still sit in a connection's output: let each flush, then close.
    for (auto& c : open_connections()) c->close_after_flush();
    workers_stopping_ = true;
    seconds grace{0};
    for (auto& p : all_pools()) {
      p->stop_members();
      grace = std::max(grace, p->settings().stop_grace);
    }
    drain_deadline_ = now + to_duration(grace) + 2s;
  }
  bool members_gone = true;
  for (auto& p : all_pools()) members_gone = members_gone && p->members_gone();
  if (workers_stopping_ && ((members_gone && conns_.empty() && handoffs_done) || now >= drain_deadline_)) {
    // A forced stop (second signal, or workers deaf to SIGTERM) must not leave workers behind.
    for (auto& p : all_pools()) {
      if (!p->members_gone()) p->kill_members();
      p->stop_timers();
    }
    if (stats_server_) stats_server_->stop();
    reaper_.stop();
    signals_.cancel();
    hangup_.cancel();
    user_signals_.cancel();
    drain_timer_.cancel();
    upgrade_timer_.cancel();
    shutdown_delay_timer_.cancel();
    log::notice("stopped");
    stopped_ = true;
    io_.stop();
    return;
  }
  // Requests, connections, workers and the hand-over poke as they end; this is the deadline.
  drain_timer_.expires_at(drain_deadline_);
  drain_timer_.async_wait([this](const std::error_code& ec) {
    if (!ec) drain_step();
  });
}

}  // namespace fcgimux
