// SPDX-License-Identifier: ISC
#include "src/pool/server_set.hpp"

#include "src/base/invariant.hpp"
#include "src/base/log.hpp"
#include "src/upstream/health_probe.hpp"
#include "src/upstream/server_values.hpp"

#include <asio/co_spawn.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace fcgimux {
namespace {

using namespace std::chrono_literals;

// A server that does not answer GET_VALUES this fast is taken to have said nothing: libfcgi
// answers a lone query only once more bytes arrive, so waiting longer would gain nothing.
constexpr auto answer_time = 1000ms;
// A server that could not be reached for its GET_VALUES is asked again this often.
constexpr auto probe_retry = 1000ms;

// A coroutine that refers to the set (a probe, a check), counted until it ends: quiet() is what
// lets a retired pool be freed.
struct counted {
  std::size_t& n;
  member_events& events;
  ~counted() {
    --n;
    events.changed();
  }
};

}  // namespace

server_set::server_set(asio::io_context& io, const pool_config& cfg, member_events& events)
    : io_(io), cfg_(cfg), events_(events), balancer_(cfg.balance), resolver_(io), resolve_timer_(io) {
  take_configured_names();
  for (const member_spec& m : members_of(cfg.servers, known_)) add_server(m);
}

void server_set::start() {
  for (auto& s : servers_) {
    // Present at start-up: it ramps from its first passed check (a cold php-fpm behind it is as
    // slow as one that just came back).
    ramp_up(*s, true);
    if (!s->limit_known) probe(*s);
    schedule_check(*s);
  }
  schedule_resolve();
}

void server_set::schedule_check(remote_server& s) {
  if (cfg_.check_interval <= seconds::zero() || stopped_) return;
  s.check_timer.expires_after(to_duration(cfg_.check_interval));
  s.check_timer.async_wait([this, &s](const std::error_code& ec) {
    if (!ec && !stopped_) check(s);
  });
}

void server_set::check(remote_server& s) {
  // A kept idle connection holds one of php-fpm's processes: with the server's every process on
  // one of ours, the check's connection would wait in its backlog and fail a server that is only
  // idle. The oldest kept one is given back first (the next request opens another).
  if (!s.idle.empty() && s.connections >= slots_[s.index].limit) {
    s.idle.front()->conn.reset();
    s.idle.erase(s.idle.begin());
    --s.connections;
  }
  auto ms = [](seconds d) { return std::chrono::duration_cast<std::chrono::milliseconds>(to_duration(d)); };
  probe_spec spec{.path = cfg_.check_path,
                  .status = cfg_.check_status,
                  .connect_within = ms(cfg_.connect_timeout),
                  .answer_within = ms(cfg_.check_timeout)};
  // Counted as a probe: neither the set (a retired pool) nor the server (removed by a reload) is
  // freed while the check refers to them.
  ++probes_;
  s.checking = true;
  asio::co_spawn(
      io_,
      [this, &s, spec]() -> asio::awaitable<void> {
        const counted checking{probes_, events_};
        const std::uint64_t answered_before = s.answered;
        probe_result got = co_await probe_server(io_.get_executor(), s.where, spec);
        s.checking = false;
        if (stopped_) co_return;
        if (s.draining) {
          forget_drained_later();
          co_return;
        }
        // A server answering our requests meanwhile is alive, whatever the check saw: php-fpm
        // gives each connection a process of its own for as long as it is kept, so under load
        // every process is on one of our kept connections and the check's connection waits in
        // its backlog until the check times out. Taking it down for that would turn a busy
        // server into a refused one (every server at once, under the same load).
        if (!got.passed && s.answered > answered_before) got.passed = true;
        check_done(s, got.passed, std::move(got.why));
        schedule_check(s);
      },
      log::on_exception("a server's health check"));
}

void server_set::probe(remote_server& s) {
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(to_duration(cfg_.connect_timeout));
  ++probes_;
  s.probing = true;
  asio::co_spawn(
      io_,
      [this, &s, timeout]() -> asio::awaitable<void> {
        const counted probing{probes_, events_};
        values_outcome got = co_await ask_values(io_.get_executor(), s.where, timeout, answer_time);
        s.probing = false;
        if (stopped_) co_return;
        if (s.draining) {
          forget_drained_later();
          co_return;
        }
        if (got.connect_error) {
          log::warning("pool {}: server {} cannot be reached ({}); asking again in {} ms", cfg_.name, s.key,
                       got.connect_error.message(), probe_retry.count());
          s.retry.expires_after(probe_retry);
          s.retry.async_wait([this, &s](const std::error_code& ec) {
            if (!ec && !stopped_) probe(s);
          });
          co_return;
        }
        balance_slot& slot = slots_[s.index];
        const auto& v = got.values;
        slot.limit = v.max_conns && *v.max_conns > 0 ? *v.max_conns : default_server_conns;
        s.limit_known = true;
        s.limit_guessed = !(v.max_conns && *v.max_conns > 0);
        update_usable(s);
        log::info("pool {}: server {} {}: max-conns {}{}", cfg_.name, s.key,
                  !got.answered ? "did not answer FCGI_GET_VALUES"
                  : v.max_conns ? fmt::format("says FCGI_MAX_CONNS={}", *v.max_conns)
                                : std::string("names no FCGI_MAX_CONNS"),
                  slot.limit,
                  s.limit_guessed ? ", a connection per request (give it max-conns, the server's own limit)" : "");
        events_.member_ready();
      },
      log::on_exception("a server's GET_VALUES"));
}

std::shared_ptr<pool_member> server_set::take(const void* avoid) {
  if (cfg_.slow_start > seconds::zero()) refresh_weights(clock_type::now());
  std::size_t i = balancer::none;
  auto avoided = std::find_if(servers_.begin(), servers_.end(), [&](auto& s) { return s.get() == avoid; });
  const bool other_usable = avoided != servers_.end() && std::any_of(servers_.begin(), servers_.end(), [&](auto& s) {
                              return s.get() != avoid && slots_[s->index].usable;
                            });
  if (other_usable) {
    // Out of the balancer's sight for this one pick: the request waits for another server's room
    // rather than going back to the one that just failed it.
    balance_slot& slot = slots_[(*avoided)->index];
    const bool was = slot.usable;
    slot.usable = false;
    i = balancer_.pick(slots_);
    slot.usable = was;
  } else {
    i = balancer_.pick(slots_);
  }
  if (i == balancer::none) return nullptr;
  remote_server& s = *servers_[i];
  std::shared_ptr<pool_member> m;
  while (!s.idle.empty() && !m) {
    m = std::move(s.idle.back());
    s.idle.pop_back();
    if (!kept_connection_clean(*m)) {
      --s.connections;
      m.reset();
    }
  }
  if (!m) {
    // No kept connection: a new one, within the limit (in flight < limit, and every connection
    // is either in flight or idle, so there is room for one).
    FCGIMUX_INVARIANT(s.connections < slots_[i].limit, "a server's connections stay within its limit");
    m = std::make_shared<pool_member>();
    m->home = this;
    m->pid = 0;
    m->where = s.where;
    m->server = &s;
    m->connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(to_duration(cfg_.connect_timeout));
    ++s.connections;
  }
  m->state = member_state::busy;
  ++slots_[i].in_flight;
  return m;
}

bool server_set::kept_connection_clean(pool_member& m) {
  // As for a worker: bytes on an idle connection would be read as the next answer, and EOF is a
  // server that closed it (php-fpm after pm.max_requests). Either way this connection is done.
  char c;
  ssize_t n = ::recv(m.conn->native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
  if (n > 0) log::warning("pool {}: server {} wrote on an idle connection; closing it", cfg_.name, m.where.text);
  m.conn.reset();
  return false;
}

void server_set::done_with(const std::shared_ptr<pool_member>& m, bool healthy) {
  FCGIMUX_INVARIANT(m->current && m->server, "a server's member is given back once per request");
  remote_server& s = *m->server;
  if (healthy && m->current) s.latency.record(clock_type::now() - m->current->started_at);
  m->current.reset();
  ++m->requests;
  ++s.requests;
  --slots_[s.index].in_flight;
  if (healthy) {
    s.fails = s.ejections = 0;
    ++s.answered;
  } else
    failed(s);
  // A server a reload removed, or whose limit it lowered below its connections, keeps no more;
  // nor does one that went down or was ejected while this request ran: drop_idle() closed its
  // others, and a kept connection holds one of php-fpm's processes, which its checks then wait for.
  if (healthy && m->conn && !stopped_ && s.keep_conn && !s.draining && !s.ejected && s.health.up() &&
      s.connections <= slots_[s.index].limit) {
    m->state = member_state::idle;
    s.idle.push_back(m);
  } else {
    m->conn.reset();
    m->state = member_state::stopping;
    --s.connections;
  }
  if (s.draining) forget_drained_later();
  events_.member_ready();
}

void server_set::ramp_up(remote_server& s, bool at_check) {
  if (cfg_.slow_start <= seconds::zero()) {
    s.ramp.cancel();
  } else if (at_check && cfg_.check_interval > seconds::zero()) {
    s.ramp.hold();
  } else {
    s.ramp.begin(clock_type::now());
    log::info("pool {}: server {} starts slowly: full weight in {:.1f} s", cfg_.name, s.key, cfg_.slow_start.count());
  }
  refresh_weights(clock_type::now());
}

void server_set::refresh_weights(clock_type::time_point now) {
  const auto length = to_duration(cfg_.slow_start);
  for (auto& s : servers_) slots_[s->index].weight = s->ramp.weight(s->cfg.weight, now, length);
}

server_state server_set::state_of(const remote_server& s, clock_type::time_point now) const {
  if (s.draining) return server_state::draining;
  if (s.ejected) return server_state::ejected;
  if (!s.health.up() || !s.limit_known) return server_state::down;
  if (s.ramp.starting(now, to_duration(cfg_.slow_start))) return server_state::starting;
  return server_state::up;
}

std::vector<server_info> server_set::describe() const {
  const auto now = clock_type::now();
  const auto length = to_duration(cfg_.slow_start);
  std::vector<server_info> out;
  out.reserve(servers_.size());
  for (const auto& sp : servers_) {
    const remote_server& s = *sp;
    // A reload removed it and a later one added it back: one entry per address, the one serving.
    if (s.draining &&
        std::any_of(servers_.begin(), servers_.end(), [&](auto& o) { return !o->draining && o->key == s.key; }))
      continue;
    const balance_slot& slot = slots_[s.index];
    server_info i;
    i.address = s.key;
    i.state = state_of(s, now);
    i.weight = s.cfg.weight;
    i.effective_weight =
        static_cast<double>(s.ramp.weight(s.cfg.weight, now, length)) / static_cast<double>(weight_scale);
    i.in_flight = slot.in_flight;
    i.connections = s.connections;
    i.max = s.limit_known ? slot.limit : 0;
    i.max_from = s.cfg.max_conns > 0 ? limit_source::configured
                 : !s.limit_known    ? limit_source::unknown
                 : s.limit_guessed   ? limit_source::guessed
                                     : limit_source::server;
    i.backup = s.cfg.backup;
    i.requests = s.requests;
    i.failures = s.failures;
    i.ejections = s.ejections_total;
    i.latency = s.latency.window_percentiles(now);
    i.checked = s.checked;
    i.last_check_passed = s.last_check_passed;
    i.last_check_why = s.last_check_passed ? std::string() : s.last_check_why;
    i.last_check_at = s.last_check_at;
    out.push_back(std::move(i));
  }
  return out;
}

void server_set::update_usable(remote_server& s) {
  slots_[s.index].usable = s.limit_known && !s.ejected && !s.draining && s.health.up();
}

void server_set::kill_now(pool_member& m) {
  // Nothing of ours to kill: the connection is closed, and the exchange sees it end.
  if (m.conn) {
    std::error_code ignore;
    m.conn->shutdown(asio::socket_base::shutdown_both, ignore);
    m.conn->cancel(ignore);
  }
}

void server_set::refused_kept_connection(pool_member& m) {
  remote_server& s = *m.server;
  if (!s.keep_conn || cfg_.keep_conn == keep_conn_mode::yes) return;
  s.keep_conn = false;
  log::warning(
      "pool {}: server {} closed a kept (FCGI_KEEP_CONN) connection without answering; a connection per "
      "request from now on",
      cfg_.name, s.key);
}

bool server_set::keeps_connections(const remote_server& s) const noexcept {
  return s.keep_conn && !s.limit_guessed && cfg_.keep_conn != keep_conn_mode::no;
}

std::size_t server_set::busy_count() const noexcept {
  std::size_t n = 0;
  for (auto& slot : slots_) n += slot.in_flight;
  return n;
}

bool server_set::has_room() const noexcept {
  return std::any_of(slots_.begin(), slots_.end(), [](auto& s) { return s.has_room(); });
}

void server_set::stop_all() {
  stopped_ = true;
  resolver_.cancel();
  resolve_timer_.cancel();
  for (auto& s : servers_) {
    s->retry.cancel();
    s->eject_timer.cancel();
    s->check_timer.cancel();
    for (auto& m : s->idle) m->conn.reset();
    s->connections -= s->idle.size();
    s->idle.clear();
  }
}

}  // namespace fcgimux
