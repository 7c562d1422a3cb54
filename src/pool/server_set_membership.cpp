// SPDX-License-Identifier: ISC
// Which servers a pool has: the configured ones at start, and what a reload (SIGHUP) or a new
// answer for a server's name changes (the diff itself is pool/server_members.cpp).
// A removed server drains: it takes no new request, its requests in flight finish on their
// connections, and it is freed once no member and no probe refers to it. Members hold a plain
// pointer to their server (pool_member::server), so a server is never freed while one of them
// lives, and never from a call that one of its members is on the stack of.

#include "src/base/log.hpp"
#include "src/pool/server_set.hpp"

#include <asio/post.hpp>

#include <algorithm>

namespace fcgimux {

void server_set::add_server(const member_spec& m) {
  const server_config& c = cfg_.servers[m.server];
  auto s = std::make_unique<remote_server>(io_, cfg_);
  s->cfg = c;
  s->key = m.key;
  s->where = socket_endpoint(reinterpret_cast<const sockaddr*>(&m.where.address), m.where.length, m.key);
  s->index = slots_.size();
  balance_slot slot;
  slot.weight = c.weight * weight_scale;
  slot.backup = c.backup;
  slot.limit = c.max_conns;
  // Without a configured limit the server is asked first; it takes requests once it answered.
  s->limit_known = c.max_conns > 0;
  slot.usable = s->limit_known;
  slots_.push_back(slot);
  servers_.push_back(std::move(s));
}

bool server_set::apply_servers(bool by_lookup) {
  // A member that is draining and comes back is a new one: the old drains on, unseen by the balancer.
  std::vector<remote_server*> live;
  std::vector<std::string> keys;
  for (auto& s : servers_)
    if (!s->draining) {
      live.push_back(s.get());
      keys.push_back(s->key);
    }
  const std::vector<member_spec> wanted = members_of(cfg_.servers, known_);
  const member_changes changes = diff_members(keys, wanted);
  for (std::size_t i : changes.drain) drain(*live[i], by_lookup);
  // A lookup changes no setting: the members it keeps are left as they are.
  if (!by_lookup)
    for (auto [i, j] : changes.keep) update_server(*live[i], cfg_.servers[wanted[j].server]);
  for (std::size_t j : changes.add) {
    add_server(wanted[j]);
    server_joined(*servers_.back(), by_lookup);
  }
  forget_drained();
  return !changes.add.empty() || !changes.drain.empty();
}

void server_set::update_server(remote_server& s, const server_config& c) {
  balance_slot& slot = slots_[s.index];
  slot.backup = c.backup;
  if (c.max_conns > 0) {
    slot.limit = c.max_conns;
    s.limit_known = true;
    s.limit_guessed = false;
  } else if (s.cfg.max_conns > 0) {
    // The configured limit is gone: the server's own word decides again, once asked.
    s.limit_known = false;
    if (!stopped_ && !s.probing) probe(s);
  }
  if (s.cfg.weight != c.weight || s.cfg.max_conns != c.max_conns || s.cfg.backup != c.backup)
    log::info("pool {}: server {}: weight {}, max-conns {}{}", cfg_.name, s.key, c.weight,
              c.max_conns > 0 ? std::to_string(c.max_conns) : std::string("as it says"), c.backup ? ", backup" : "");
  s.cfg = c;
  // The new weight, as far along its ramp as the server is; slow start turned off ends a ramp.
  if (cfg_.slow_start <= seconds::zero()) s.ramp.cancel();
  refresh_weights(clock_type::now());
  update_usable(s);
  // A lower limit: idle kept connections beyond it close now, busy ones as their requests end.
  while (!s.idle.empty() && s.limit_known && s.connections > slot.limit) {
    s.idle.front()->conn.reset();
    s.idle.erase(s.idle.begin());
    --s.connections;
  }
}

void server_set::drain(remote_server& s, bool by_lookup) {
  s.draining = true;
  slots_[s.index].usable = false;
  s.retry.cancel();
  s.eject_timer.cancel();
  s.check_timer.cancel();
  for (auto& m : s.idle) m->conn.reset();
  s.connections -= s.idle.size();
  s.idle.clear();
  log::info("pool {}: server {} {}; {} requests in flight there finish first", cfg_.name, s.key,
            by_lookup ? "is no longer an address of its name" : "removed", slots_[s.index].in_flight);
}

void server_set::server_joined(remote_server& s, bool by_lookup) {
  // Slow start: from its first passed check when checks run (a server that is not there yet must
  // not ramp in its absence), else from now.
  log::info("pool {}: server {} added{}", cfg_.name, s.key, by_lookup ? " (a new address of its name)" : "");
  ramp_up(s, true);
  if (!s.limit_known && !stopped_) probe(s);
  schedule_check(s);
}

void server_set::forget_drained_later() {
  if (forget_posted_) return;
  forget_posted_ = true;
  asio::post(io_, [this] {
    forget_posted_ = false;
    forget_drained();
    events_.changed();
  });
}

void server_set::forget_drained() {
  for (std::size_t i = 0; i < servers_.size();) {
    remote_server& s = *servers_[i];
    if (!s.draining || s.connections > 0 || s.probing || s.checking) {
      ++i;
      continue;
    }
    log::info("pool {}: server {} drained and forgotten", cfg_.name, s.key);
    servers_.erase(servers_.begin() + static_cast<std::ptrdiff_t>(i));
    slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(i));
    for (std::size_t j = i; j < servers_.size(); ++j) servers_[j]->index = j;
  }
}

}  // namespace fcgimux
