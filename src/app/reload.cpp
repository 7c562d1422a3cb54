// SPDX-License-Identifier: ISC
// SIGHUP: the configuration is read again and, if valid, applied without a failed request: pool
// settings take effect, pools come and go, listeners are bound or closed, and every pool's workers
// roll (HUP means "new code deployed"). Anything wrong (a bad file, a name that does not resolve,
// an address that cannot be bound) is found before anything changes, and then nothing does. The
// file is read and the host names are looked up off the loop; the reload is applied once both
// have answered.

#include "src/app/server.hpp"
#include "src/base/log.hpp"
#include "src/config/names.hpp"
#include "src/front/listener.hpp"

#include <fmt/ranges.h>
#include <asio/post.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

namespace fcgimux {

using namespace std::chrono_literals;

void server::reload_failed(const std::string& why) {
  ++st_.counts.reloads_failed;
  st_.last_reload_error = why;
  log::error("reload failed: {}", why);
}

void server::reload() {
  if (reload_reader_.busy() || reload_resolver_.busy()) {
    // One reload at a time: this one reads the file once the one before has been read and its
    // names answered.
    reload_again_ = true;
    log::info("SIGHUP: the previous one is still reading the configuration or resolving its host names; "
              "the configuration is read again after it");
    return;
  }
  // systemd (Type=notify-reload) waits for RELOADING=1, then READY=1, whatever the outcome.
  notify_.send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=reloading", monotonic_usec()));
  reload_reader_.read([this](config_reader::outcome got) {
    if (stopping_ || st_.stopping) {
      log::info("SIGHUP: stopping; the configuration read is not applied");
      return;
    }
    if (!got.error.empty()) {
      reload_failed(fmt::format("{}; the running configuration is kept", got.error));
      watch_readiness();
    } else {
      resolve_reload(std::move(got.read));
    }
    if (!reload_resolver_.busy() && std::exchange(reload_again_, false)) reload();
  });
}

void server::resolve_reload(config next) {
  const std::vector<std::string> hosts = names_to_resolve(next);  // read_config looked none up
  if (hosts.empty()) {
    finish_reload(std::move(next), {});
    return;
  }
  // Off the loop (upstream/name_resolver.hpp): everything goes on serving meanwhile, and nothing
  // changes until every name is answered.
  auto read = std::make_shared<config>(std::move(next));
  reload_resolver_.lookup(hosts, [this, read](name_answers answers) {
    if (stopping_ || st_.stopping) {
      log::info("SIGHUP: stopping; the configuration read is not applied");
      return;
    }
    finish_reload(std::move(*read), answers);
    if (std::exchange(reload_again_, false)) reload();
  });
}

void server::finish_reload(config next, const name_answers& answers) {
  try {
    apply_names(next, answers);
  } catch (const config_error& e) {
    reload_failed(fmt::format("{}; the running configuration is kept", e.what()));
    watch_readiness();
    return;
  }
  apply_reload(std::move(next));
  watch_readiness();
}

void server::apply_reload(config next) {
  // The file read again is said again as at start-up: each php-fpm directive it does not map, or nothing.
  for (const auto& w : next.warnings) log::warning("{}", w);
  const front_limits next_front{.max_conns = next.max_conns};

  // Everything that can fail, first: the new pools (not started) and the new listeners (bound,
  // not accepting). Dropping them leaves fcgimux as it was.
  std::vector<std::unique_ptr<pool>> fresh;
  for (const pool_config& p : next.pools) {
    try {
      // A pool's access log is opened here, new or moved: a path that cannot be opened refuses the reload.
      if (pool* existing = find_pool(p.name))
        existing->prepare(p);
      else
        fresh.push_back(std::make_unique<pool>(io_, p, st_, next_front, reaper_));
    } catch (const std::system_error& e) {
      reload_failed(fmt::format("{}; the running configuration is kept", e.what()));
      return;
    }
  }
  auto target_of = [&](const std::string& name) -> pool* {
    if (pool* p = find_pool(name)) return p;
    for (auto& f : fresh)
      if (f->name() == name) return f.get();
    return nullptr;
  };
  auto bound_at = [&](const std::string& address) {
    return std::find_if(listeners_.begin(), listeners_.end(), [&](auto& b) { return b.address == address; });
  };
  std::vector<bound_listener> opened;
  std::set<std::string> wanted;
  for (const pool_config& p : next.pools)
    for (const auto& a : p.listen) {
      wanted.insert(a);
      if (bound_at(a) != listeners_.end()) continue;
      try {
        opened.push_back({p.name, a,
                          std::make_unique<listener>(io_, *target_of(p.name), *this, a, listen_address(next, a),
                                                     static_cast<int>(p.backlog), listener_access(p))});
      } catch (const std::system_error& e) {
        reload_failed(fmt::format("pool \"{}\": cannot listen on {}: {}; the running configuration is kept", p.name, a,
                                  e.what()));
        return;
      }
    }

  // From here on nothing fails. Listeners no pool wants any more stop accepting; their open
  // connections stay with their pool until they close.
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (wanted.count(it->address)) {
      ++it;
      continue;
    }
    it->l->stop();
    log::info("pool {}: no longer listening on {}", it->pool, it->l->address());
    closed_listeners_.push_back(std::move(*it));
    it = listeners_.erase(it);
  }
  front_ = next_front;
  std::size_t added = fresh.size(), removed = 0;
  for (const pool_config& p : next.pools) {
    if (pool* existing = find_pool(p.name)) {
      const pool_config& was = existing->settings();
      const bool new_identity = was.user != p.user || was.group != p.group || was.chroot != p.chroot ||
                                was.chdir != p.chdir || was.credentials.groups != p.credentials.groups;
      existing->reconfigure(p, front_);
      if (new_identity)
        log_worker_identity(p);
      else
        log_worker_warnings(p);
      existing->roll();
    }
  }
  for (auto& f : fresh) {
    log_worker_identity(f->settings());
    f->start(runtime_dir_);
    log::info("pool {}: {} workers: {} (added)", f->name(), f->settings().workers,
              fmt::join(f->settings().command, " "));
    add_pool(std::move(f));
  }
  // An address another pool now has: connections accepted from now on go there.
  for (const pool_config& p : next.pools)
    for (const auto& a : p.listen)
      if (auto it = bound_at(a); it != listeners_.end() && it->pool != p.name) {
        log::info("{}: from pool {} to pool {}", a, it->pool, p.name);
        it->pool = p.name;
        it->l->retarget(*find_pool(p.name));
      }
  for (auto& b : opened) {
    b.l->start();
    log::info("listening on {} for pool {}", b.l->address(), b.pool);
    listeners_.push_back(std::move(b));
  }
  for (auto it = pools_.begin(); it != pools_.end();) {
    const std::string& name = (*it)->name();
    if (std::any_of(next.pools.begin(), next.pools.end(), [&](auto& p) { return p.name == name; })) {
      ++it;
      continue;
    }
    log::info("pool {}: removed; its workers stop once its requests and connections are gone", name);
    st_.remove_pool(name);
    (*it)->begin_stop();
    retired_.push_back(std::move(*it));
    it = pools_.erase(it);
    ++removed;
  }
  if (next.stats != cfg_.stats) {
    log::info("stats: a new address ({}) takes a restart; still on {}", next.stats, cfg_.stats);
    next.stats = cfg_.stats;
  }
  if (next.error_log != cfg_.error_log) {
    log::warning("error-log: a new destination ({}) takes a restart; still {}", next.error_log, cfg_.error_log);
    next.error_log = cfg_.error_log;
  }
  log::verbose_enabled = next.verbose;
  cfg_ = std::move(next);
  apply_stats_access();
  ++st_.counts.reloads_ok;
  log::notice("SIGHUP: configuration reloaded ({} pools, {} added, {} removed); rolling every pool's workers",
              pools_.size(), added, removed);
  retire_step();
}

void server::retire_step() {
  // A closed listener goes once its accept loop has seen the close; a retired pool once nothing
  // refers to it (pool::unreferenced) and no listener still names it. Called again by poke() as
  // each of those ends. A pool is freed from a handler of its own, with none of its code on the
  // stack, after its timers were cancelled and their handlers (queued first, run first) have run.
  std::erase_if(closed_listeners_, [](const bound_listener& b) { return !b.l->accepting(); });
  for (auto it = retired_.begin(); it != retired_.end();) {
    pool& p = **it;
    // A connection accepted as its listener closed may still bring a request: the workers serve
    // until the last one is gone. stop_members() acts once: later calls leave each worker's
    // SIGKILL deadline alone.
    if (p.live_requests() == 0 && p.front_connections() == 0) p.stop_members();
    const bool named = std::any_of(closed_listeners_.begin(), closed_listeners_.end(),
                                   [&](const bound_listener& b) { return b.l->target() == &p; });
    if (named || !p.unreferenced()) {
      ++it;
      continue;
    }
    p.stop_timers();
    log::info("pool {}: freed (its last request, connection and worker are gone)", p.name());
    asio::post(io_, [gone = std::move(*it)] {});
    it = retired_.erase(it);
  }
}

}  // namespace fcgimux
