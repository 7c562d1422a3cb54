// SPDX-License-Identifier: ISC
// Ending workers: a stop (close the kept connection, SIGTERM, SIGKILL after --stop-grace), a kill,
// and the release of idle workers past --idle-timeout or over --max-workers.

#include "src/base/log.hpp"
#include "src/pool/worker_pool.hpp"
#include "src/process/worker_process.hpp"

#include <algorithm>
#include <csignal>

namespace fcgimux {

void worker_pool::signal_worker(const worker& w, int sig) {
  // Workers lead their own process group (setsid before exec), so what they fork goes too.
  w.group.signal(sig);
}

void worker_pool::kill_now(pool_member& w) {
  if (w.process->exited) return;
  w.process->signalled_by_us = true;
  signal_worker(*w.process, SIGKILL);
}

void worker_pool::stop_worker(const std::shared_ptr<pool_member>& w) {
  remove_idle(w.get());
  w->state = worker_state::stopping;
  // php-cgi blocked reading a kept connection ignores SIGTERM until that connection closes. A busy
  // worker's exchange still uses the socket object: shut it down and let the exchange drop it.
  if (w->current && w->conn) {
    std::error_code ignore;
    w->conn->shutdown(asio::socket_base::shutdown_both, ignore);
    w->conn->cancel(ignore);
  } else {
    w->conn.reset();
  }
  if (w->process->exited) return;
  w->process->signalled_by_us = true;
  signal_worker(*w->process, SIGTERM);
  w->process->kill_timer.expires_after(to_duration(cfg_.stop_grace));
  w->process->kill_timer.async_wait([w](const std::error_code& ec) {
    if (ec || w->process->exited) return;
    log::warning("worker {} ignored SIGTERM; sending SIGKILL", w->pid);
    signal_worker(*w->process, SIGKILL);
  });
}

void worker_pool::stop_all() {
  if (stopping_all_) return;  // a worker already stopping keeps its SIGKILL deadline
  stopping_all_ = true;
  spawn_timer_.cancel();
  release_timer_.cancel();
  auto all = workers_;
  for (auto& w : all)
    if (w->state != worker_state::busy) stop_worker(w);
  for (auto& w : all)
    if (w->state == worker_state::busy) stop_worker(w);
}

void worker_pool::release_pass() {
  if (stopping_all_) return;
  // During a roll the pool is briefly above its size on purpose: nothing is released.
  if (rolling_ != rolling::rolling) release_over_max();
  if (!idle_.empty() && rolling_ != rolling::rolling) {
    auto oldest = idle_.front();
    if (scaler_.may_release(counts(), oldest->process->idle_since, clock_type::now())) {
      log::debug("worker {} released after {:.1f} s idle", oldest->pid,
                 std::chrono::duration<double>(clock_type::now() - oldest->process->idle_since).count());
      stop_worker(oldest);
    }
  }
  release_timer_.expires_after(
      std::clamp(to_duration(cfg_.idle_timeout / 4), to_duration(seconds(0.05)), to_duration(seconds(1.0))));
  release_timer_.async_wait([this](const std::error_code& ec) {
    if (!ec) release_pass();
  });
}

void worker_pool::release_over_max() {
  // A reload lowered --max-workers: the idle workers over it go now, not after --idle-timeout;
  // busy ones are never interrupted and go at a later pass, once idle.
  pool_counts p = counts();
  while (p.live > cfg_.max_workers && !idle_.empty()) {
    auto oldest = idle_.front();
    log::debug("worker {} released: the pool is over its maximum of {}", oldest->pid, cfg_.max_workers);
    stop_worker(oldest);
    --p.live;
  }
}

void worker_pool::kill_pid(int pid) {
  for (auto& w : workers_)
    if (w->pid == pid) return kill_now(*w);
}

void worker_pool::kill_all() {
  for (auto& w : workers_)
    if (!w->process->exited) {
      w->process->signalled_by_us = true;
      signal_worker(*w->process, SIGKILL);
    }
}
}  // namespace fcgimux
