// SPDX-License-Identifier: ISC
#include "src/pool/pool.hpp"

#include "proto/name_value.hpp"
#include "src/base/invariant.hpp"
#include "src/core/request_lifecycle.hpp"
#include "src/stats/fpm_status.hpp"
#include "src/stats/stats.hpp"
#include "src/upstream/exchange.hpp"

#include <fmt/core.h>

#include <map>

namespace fcgimux {
namespace {

front_settings front_of(const pool_config& cfg, const front_limits& process) {
  front_settings f;
  f.limits = process;
  f.limits.max_params = cfg.max_params;
  f.limits.max_reqs = cfg.max_reqs;
  f.limits.body_buffer = cfg.body_buffer;
  f.limits.roles = cfg.roles;
  f.limits.status_path = cfg.status_path;
  f.limits.ping_path = cfg.ping_path;
  f.send_timeout = to_duration(cfg.send_timeout);
  f.output_buffer = cfg.output_buffer;
  f.limits.idle_timeout = to_duration(cfg.front_idle_timeout);
  f.header_timeout = to_duration(cfg.header_timeout);
  f.allow = cfg.allow;
  return f;
}

}  // namespace

pool::pool(asio::io_context& io, pool_config cfg, const fcgimux::stats& process, const front_limits& limits,
           reaper& reaper)
    : io_(io),
      cfg_(std::move(cfg)),
      process_stats_(process),
      front_(front_of(cfg_, limits)),
      members_(io, cfg_, st_, reaper, *this),
      servers_(io, cfg_, *this),
      sched_(io, cfg_, st_, *this),
      access_log_(open_access_log(cfg_)),
      slow_log_(io, reaper, cfg_) {
  st_.view = [this](bool full) { return snapshot(full); };
}

void pool::start(const std::string& runtime_dir) {
  // A pool a reload added again while the one it replaced still drains must not take that one's
  // socket names: the old workers' paths are removed as they stop. So each pool started gets a
  // number of its own (the first of each name keeps the plain POOL.wN.sock).
  static std::map<std::string, std::uint64_t> started;
  const std::uint64_t n = started[cfg_.name]++;
  members_.start(n == 0 ? fmt::format("{}/{}.w", runtime_dir, cfg_.name)
                        : fmt::format("{}/{}.{}.w", runtime_dir, cfg_.name, n));
  servers_.start();
}

void pool::prepare(const pool_config& next) {
  // The member sets are built once, with the pool: a reload changes what they do, not what they
  // are (the servers they hold follow the settings: server_set::settings_changed).
  if (next.command.empty() != cfg_.command.empty())
    throw std::system_error(std::make_error_code(std::errc::operation_not_supported),
                            fmt::format("pool \"{}\": {} a command, which needs a restart", cfg_.name,
                                        cfg_.command.empty() ? "gained" : "lost"));
  next_access_log_.reset();
  if (next.access_log != cfg_.access_log || next.access_format != cfg_.access_format)
    next_access_log_ = open_access_log(next);
  slow_log_.prepare(next);
}

void pool::reconfigure(const pool_config& next, const front_limits& limits) {
  const std::string kept_log = cfg_.access_log, kept_format = cfg_.access_format, kept_slowlog = cfg_.slowlog;
  cfg_ = next;
  if (!slow_log_.reconfigure()) cfg_.slowlog = kept_slowlog;
  if (next_access_log_) {
    access_log_ = std::move(*next_access_log_);
    next_access_log_.reset();
  } else {
    // Not prepared (nothing to open): the settings say what is really written.
    cfg_.access_log = kept_log;
    cfg_.access_format = kept_format;
  }
  // Front sessions hold a reference to these limits: they follow at their next record.
  front_ = front_of(cfg_, limits);
  members_.settings_changed();
  servers_.settings_changed();
  members_.grow();  // a larger minimum
}

void pool::roll_stopped(std::string_view why) {
  if (on_roll_stopped) on_roll_stopped(fmt::format("pool \"{}\": {}", cfg_.name, why));
}

void pool::begin_stop() {
  stopping_ = true;
  members_.stop_spawning();
}

std::shared_ptr<request> pool::open_request(std::weak_ptr<front_port> conn, std::uint16_t id, bool keep_conn) {
  ++st_.counts.requests_accepted;
  ++live_;
  return std::make_shared<request>(std::move(conn), *this, id, keep_conn);
}

void pool::request_refused() {
  ++st_.counts.requests_accepted;
  ++st_.counts.requests_rejected;
  ++st_.counts.requests_completed;
}

bool pool::taking_requests() const { return !stopping_ || members_.can_take_requests() || !servers_.empty(); }

void pool::request_unavailable(request& r) {
  ++st_.counts.requests_rejected;
  respond_error(r, 503, "fcgimux is shutting down");
}

void pool::status_request(request& r) {
  if (!cfg_.ping_path.empty() && r.script_name == cfg_.ping_path) {
    // A health check asks whether this pool would serve a request now, not whether fcgimux runs.
    if (snapshot(false).can_serve)
      respond(r, 200, "text/plain;charset=UTF-8", cfg_.ping_response);
    else
      respond_error(r, 503, "no worker can serve this pool now");
    return;
  }
  auto q = proto::find_name_value(r.params, "QUERY_STRING").value;
  if (q == "metrics")
    respond(r, 200, "text/plain; version=0.0.4", process_stats_.to_prometheus(cfg_.name));
  else {
    const fpm_page page = fpm_status_page(process_stats_, cfg_.name, st_, q);
    respond(r, 200, page.content_type, page.body);
  }
}

void pool::request_gone(const std::shared_ptr<request>& r) {
  ++st_.counts.requests_aborted;
  switch (r->state) {
    case request_state::queued: sched_.cancel(*r); [[fallthrough]];
    case request_state::reading: finish_request(*r, 0, 0); break;
    case request_state::at_worker:
      watch_abandoned(*this, r);  // its exchange drains the member and ends it
      break;
    case request_state::done: break;
  }
}

void pool::request_finished(request& r, int http_status) {
  FCGIMUX_INVARIANT(live_ > 0, "a request ends once");
  --live_;
  ++st_.counts.requests_completed;
  if (http_status > 0) st_.record_status(http_status);
  if (access_log_ && !access_log_->write(r, cfg_.name)) ++st_.counts.access_log_dropped;
  changed();
}

// The member's own set (its workers, or its servers) decides what each of these means for it.
void pool::refused_kept_connection(pool_member& m) { m.home->refused_kept_connection(m); }

void pool::done_with(const std::shared_ptr<pool_member>& m, bool healthy) {
  // Before its set decides what becomes of it: a worker stopped now is still there to be read.
  if (m->process && !m->process->exited) m->process->usage.end(m->pid, clock_type::now());
  m->home->done_with(m, healthy);
}

void pool::kill_now(pool_member& m) { m.home->kill_now(m); }

std::shared_ptr<pool_member> pool::take_idle() {
  // The workers first (a pool with no servers: only they), the servers as their overflow; or
  // the reverse with --prefer servers.
  // A request a server failed goes to another member (servers_.take skips that server while
  // another one can serve).
  const request* next = sched_.head();
  const void* avoid = next ? next->failed_at : nullptr;
  if (cfg_.servers_first)
    if (auto m = servers_.take(avoid)) return m;
  if (auto m = members_.take_idle()) return m;
  return cfg_.servers_first ? nullptr : servers_.take(avoid);
}

void pool::no_member_left(std::string_view why) {
  // The servers still serve a pool whose workers cannot start (or are gone in a shutdown).
  if (cannot_serve()) sched_.fail_all(why);
}

void pool::serve(std::shared_ptr<pool_member> m, std::shared_ptr<request> r) {
  // Before the worker is sent the request (start_exchange may write it at once): php-fpm's
  // last request cpu and memory, once a `full` status page was asked (process/worker_usage.hpp).
  if (st_.usage_wanted && m->process) m->process->usage.begin(m->pid, clock_type::now());
  start_exchange(*this, std::move(m), r);
  slow_log_.watch(r);  // now that it has its worker, attempt and start
  // php-fpm's "max active processes" (its ?json): the peak, seen where a member turns busy.
  const std::uint64_t busy = members_.busy_count() + servers_.busy_count();
  if (busy > st_.counts.busy_peak) st_.counts.busy_peak = busy;
}

pool_snapshot pool::snapshot(bool full) const {
  pool_snapshot s;
  pool_counts p = members_.counts();
  s.min = cfg_.workers;
  s.max = cfg_.max_workers;
  s.size = p.live;
  s.starting = p.starting;
  s.idle = p.idle;
  s.busy = members_.busy_count() + servers_.busy_count();
  s.queue_length = sched_.length();
  s.queue_limit = cfg_.queue_limit;
  s.can_serve = !stopping_ && !members_.cannot_serve() &&
                (p.idle > 0 || s.busy > 0 || p.live < cfg_.max_workers || p.starting > 0 || !servers_.all_down());
  s.generation = members_.generation();
  s.roll = members_.roll_state();
  if (full) s.workers = members_.describe();
  if (!servers_.empty()) s.servers = servers_.describe();
  return s;
}

}  // namespace fcgimux
