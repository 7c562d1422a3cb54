// SPDX-License-Identifier: ISC
// The rolling restart of a pool's workers (SIGHUP): every worker is replaced, and the number of
// ready workers never drops below what it was. A new worker is started first; each one that has
// proven itself (a request served, or a second up) retires one old worker: an idle one at once, a
// busy one once its request has ended (it is never interrupted). At most --roll-surge new workers
// are on their way at once. New workers that cannot start stop the roll and leave the old ones
// serving.

#include "src/base/log.hpp"
#include "src/pool/worker_pool.hpp"

#include <algorithm>

namespace fcgimux {
namespace {

using namespace std::chrono_literals;

// How long a new worker must stay up, if it serves no request first, before an old one goes for it.
constexpr auto roll_probation = 1s;

}  // namespace

void worker_pool::roll() {
  if (stopping_all_ || no_spawn_) return;
  ++generation_;
  const bool retarget = rolling_ == rolling::rolling;
  // How many workers the roll ends with: the pool as it is, not counting a retargeted roll's
  // extra ones (a new worker of the last generation is an old one now).
  if (!retarget)
    roll_size_ = static_cast<std::size_t>(std::count_if(workers_.begin(), workers_.end(), [](auto& w) {
      return w->state != worker_state::stopping && !w->process->exited;
    }));
  // Within the current settings: a reload that lowered --max-workers ends the roll at the new
  // maximum, instead of replacing every worker and leaving the extra ones to --idle-timeout.
  roll_size_ = std::clamp(roll_size_, cfg_.workers, std::max(cfg_.workers, cfg_.max_workers));
  rolling_ = rolling::rolling;
  roll_error_.clear();
  // A retry after a failed roll (or a deploy that fixed the program) starts at once.
  start_failures_ = 0;
  spawn_not_before_ = clock_type::now();
  log::info("pool {}: {} workers to generation {}", cfg_.name, retarget ? "retargeting the roll of its" : "rolling its",
            generation_);
  roll_step();
}

void worker_pool::new_worker_ready(const std::shared_ptr<pool_member>& w) {
  if (rolling_ != rolling::rolling || w->process->generation != generation_) return;
  // A program that starts and exits at once (a bad deploy) must not cost an old worker: a new
  // one counts once it has served a request (done_with) or stayed up for this long.
  auto timer = std::make_shared<asio::steady_timer>(io_, roll_probation);
  timer->async_wait([this, timer, weak = std::weak_ptr<pool_member>(w)](const std::error_code& ec) {
    if (auto w = weak.lock(); w && !ec) roll_proven(*w);
  });
}

void worker_pool::roll_proven(pool_member& w) {
  if (w.process->proven || w.process->exited || w.state == worker_state::stopping) return;
  w.process->proven = true;
  if (rolling_ != rolling::rolling || w.process->generation != generation_) return;
  ++replacements_;
  roll_step();
}

void worker_pool::roll_failed(const pool_member& w, const std::string& why) {
  if (rolling_ != rolling::rolling || w.process->generation != generation_) return;
  rolling_ = rolling::failed;
  replacements_ = 0;
  roll_error_ = fmt::format("a worker of generation {} {} as it started", generation_, why);
  log::error("pool {}: roll stopped: {}; the older workers go on serving (a later SIGHUP retries)", cfg_.name,
             roll_error_);
  events_.roll_stopped(roll_error_);
}

void worker_pool::roll_step() {
  if (rolling_ != rolling::rolling || stopping_all_ || no_spawn_) return;
  auto is_old = [this](const std::shared_ptr<pool_member>& w) {
    return w->process->generation < generation_ && w->state != worker_state::stopping && !w->process->exited;
  };
  // Each ready new worker retires one old one: an idle (or still starting) one first, else a busy
  // one, which is stopped when its request ends.
  while (replacements_ > 0) {
    auto pick = std::find_if(workers_.begin(), workers_.end(),
                             [&](auto& w) { return is_old(w) && w->state != worker_state::busy; });
    if (pick == workers_.end())
      pick =
          std::find_if(workers_.begin(), workers_.end(), [&](auto& w) { return is_old(w) && !w->process->retiring; });
    if (pick == workers_.end()) break;
    --replacements_;
    auto old = *pick;
    if (old->state == worker_state::busy) {
      old->process->retiring = true;
    } else {
      log::debug("pool {}: worker {} (generation {}) replaced", cfg_.name, old->pid, old->process->generation);
      stop_worker(old);
    }
  }
  std::size_t old_left = 0, new_total = 0, new_pending = 0;
  for (auto& w : workers_) {
    if (is_old(w)) {
      ++old_left;
    } else if (w->process->generation == generation_ && !w->process->exited && w->state != worker_state::stopping) {
      ++new_total;
      if (!w->process->proven) ++new_pending;  // starting, or ready and not proven yet
    }
  }
  // Every new worker is there and proven: what is left of the old ones goes (the extra ones of
  // a retargeted roll), the ready count staying at the roll's size.
  if (old_left > 0 && new_total >= roll_size_ && new_pending == 0) {
    for (auto& w : std::vector(workers_))
      if (is_old(w)) {
        if (w->state == worker_state::busy)
          w->process->retiring = true;
        else
          stop_worker(w);
      }
    old_left = static_cast<std::size_t>(std::count_if(workers_.begin(), workers_.end(), is_old));  // retiring ones
  }
  // Over once no old worker serves any more (a retiring one still finishing its request counts).
  if (old_left == 0) {
    rolling_ = rolling::idle;
    replacements_ = 0;
    events_.changed();
    log::info("pool {}: every worker is of generation {}", cfg_.name, generation_);
    return;
  }
  // New workers up to the roll's size, at most --roll-surge on their way at once.
  const std::size_t surge = std::max<std::size_t>(cfg_.roll_surge, 1);
  const std::size_t wanted =
      std::min(roll_size_ > new_total ? roll_size_ - new_total : 0, surge > new_pending ? surge - new_pending : 0);
  if (wanted == 0) return;
  if (clock_type::now() < spawn_not_before_)
    schedule_spawn(spawn_not_before_);
  else
    spawn(wanted);
}

void worker_pool::settings_changed() {
  scaler_ =
      scaler(scaler_config{cfg_.workers, cfg_.max_workers, cfg_.spare, cfg_.max_spawn_rate, cfg_.idle_timeout.count()});
  keep_conn_ = cfg_.keep_conn != keep_conn_mode::no;
  keep_conn_suspended_ = told_keep_conn_ = false;
}

roll_status worker_pool::roll_state() const noexcept {
  roll_status r;
  r.state = rolling_;
  for (auto& w : workers_) {
    if (w->state == worker_state::stopping || w->process->exited) continue;
    if (w->process->generation < generation_)
      ++r.old_workers;
    else
      ++r.new_workers;
  }
  r.error = roll_error_;
  return r;
}

}  // namespace fcgimux
