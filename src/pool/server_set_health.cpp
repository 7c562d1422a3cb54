// SPDX-License-Identifier: ISC
// A server's health: what its active checks found (down after `fall` failures, up after `rise`
// passes) and its passive ejection after --max-fails failed requests in a row.

#include "src/base/log.hpp"
#include "src/pool/server_set.hpp"

#include <algorithm>

namespace fcgimux {

void server_set::check_done(remote_server& s, bool passed, std::string why) {
  s.checked = true;
  s.last_check_passed = passed;
  s.last_check_at = std::chrono::system_clock::now();
  s.last_check_why = std::move(why);
  s.health.set_counts(cfg_.rise, cfg_.fall);
  if (passed && s.ramp.held()) ramp_up(s, false);
  if (!s.health.record(passed)) return;
  update_usable(s);
  if (!s.health.up()) {
    log::warning("pool {}: server {} failed {} checks in a row ({}); down until {} pass", cfg_.name, s.key, cfg_.fall,
                 s.last_check_why, cfg_.rise);
    drop_idle(s);
    s.ramp.cancel();
    // Requests waiting for a server that none can take: answered at once, not at their timeout.
    if (all_down() && cfg_.command.empty()) events_.no_member_left("every server is down");
  } else {
    log::info("pool {}: server {} passed {} checks in a row; up again", cfg_.name, s.key, cfg_.rise);
    ramp_up(s, false);
    events_.member_ready();
  }
}

void server_set::checks_changed() {
  const bool on = cfg_.check_interval > seconds::zero();
  if (on == checks_on_) return;
  checks_on_ = on;
  for (auto& s : servers_) {
    if (s->draining) continue;
    if (on) {
      // The first check an interval from now, as at start-up; one under way reschedules itself.
      if (!s->checking) schedule_check(*s);
      continue;
    }
    // No check will say a server is up again: it is, as every server is without checks (a
    // failing one is still ejected by its requests, --max-fails).
    s->check_timer.cancel();
    s->health = check_state(cfg_.rise, cfg_.fall);
    update_usable(*s);
  }
  if (!on) events_.member_ready();
}

void server_set::drop_idle(remote_server& s) {
  for (auto& m : s.idle) m->conn.reset();
  s.connections -= s.idle.size();
  s.idle.clear();
}

bool server_set::all_down() const noexcept {
  return std::all_of(servers_.begin(), servers_.end(), [](auto& s) { return !s->health.up(); });
}

void server_set::failed(remote_server& s) {
  ++s.failures;
  ++s.fails;
  if (cfg_.max_fails == 0 || s.fails < cfg_.max_fails || s.ejected || stopped_) return;
  // Never the last member: a pool whose every server fails would then refuse everything at once,
  // where a server that comes back would otherwise have been found by the next request.
  const bool other_left = !cfg_.command.empty() || std::any_of(servers_.begin(), servers_.end(),
                                                               [&](auto& o) { return o.get() != &s && !o->ejected; });
  if (other_left) eject(s);
}

void server_set::eject(remote_server& s) {
  // 10 s, 20 s, 40 s ... while it keeps failing: at most 32 times the first (health_check.hpp).
  const auto length = eject_length(to_duration(cfg_.eject_time), s.ejections);
  ++s.ejections;
  ++s.ejections_total;
  s.ejected = true;
  s.ramp.cancel();
  update_usable(s);
  // Its kept connections are as dead as it is.
  drop_idle(s);
  log::warning("pool {}: server {} failed {} requests in a row; ejected for {:.1f} s", cfg_.name, s.key, s.fails,
               std::chrono::duration<double>(length).count());
  s.eject_timer.expires_after(length);
  s.eject_timer.async_wait([this, &s](const std::error_code& ec) {
    if (ec || stopped_) return;
    s.ejected = false;
    // One more failure ejects it again, for twice as long; one answer clears the count.
    s.fails = cfg_.max_fails > 0 ? cfg_.max_fails - 1 : 0;
    ramp_up(s, false);
    update_usable(s);
    log::info("pool {}: server {} takes requests again", cfg_.name, s.key);
    events_.member_ready();
  });
}

std::size_t server_set::ejected_count() const noexcept {
  return static_cast<std::size_t>(std::count_if(servers_.begin(), servers_.end(), [](auto& s) { return s->ejected; }));
}

}  // namespace fcgimux
