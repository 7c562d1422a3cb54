// SPDX-License-Identifier: ISC
#pragma once
// The remote FastCGI servers of a pool (docs/remote.md): members fcgimux connects to and never
// spawns. Each server takes at most its limit of requests at once (max-conns, else its
// FCGI_MAX_CONNS answer, else default_server_conns), one request per connection, and keeps
// the connections it has opened (FCGI_KEEP_CONN) for the next requests: never more connections
// than its limit, so no kept connection can hold one of its processes while a request waits in
// its backlog. Which server takes a request is the balancer's choice. A server given by a host
// name is one member per address of its name, looked up again every resolve-interval
// (pool/server_set_names.cpp, pool/server_members.hpp).

#include "src/config/config.hpp"
#include "src/pool/balancer.hpp"
#include "src/pool/health_check.hpp"
#include "src/pool/server_members.hpp"
#include "src/pool/slow_start.hpp"
#include "src/pool/worker_pool.hpp"
#include "src/stats/server_stats.hpp"
#include "src/upstream/member.hpp"
#include "src/upstream/name_resolver.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace fcgimux {

/// A server's limit when neither the configuration nor the server says (php-fpm names only
/// FCGI_MPXS_CONNS): php-fpm's own default pm.max_children.
inline constexpr std::size_t default_server_conns = 5;

/// One member of the set: a configured server, or one address of a named one; its limit, its
/// kept connections.
struct remote_server {
  remote_server(asio::io_context& io, const pool_config& p)
      : retry(io), eject_timer(io), health(p.rise, p.fall), check_timer(io) {}
  server_config cfg;  ///< the configured server it stands for
  std::string key;    ///< its name: the configured address, or NAME:PORT@ADDRESS (member_key)
  member_endpoint where;
  std::size_t index = 0;                           ///< its slot in the set's balance slots
  std::size_t connections = 0;                     ///< in flight + idle kept ones: never above slot.limit
  std::vector<std::shared_ptr<pool_member>> idle;  ///< kept connections; back() the most recent
  bool keep_conn = true;                           ///< false once it closed a kept connection without answering
  std::uint64_t requests = 0, failures = 0;
  std::uint64_t answered = 0;  ///< requests it answered (a failed one is not counted)
  asio::steady_timer retry;    ///< the next GET_VALUES try, while the server could not be reached
  bool limit_known = false;    ///< from max-conns or its GET_VALUES answer (or the default, once asked)
  /// The limit is the default, not the server's word: its connections are not kept, since a kept
  /// idle connection holds one of its processes, and a guess above its real number of processes
  /// would leave the requests on the other connections in its backlog for as long as they are kept.
  bool limit_guessed = false;
  // Passive health: failed requests in a row; an ejected server takes no request for a while.
  std::size_t fails = 0;
  std::size_t ejections = 0;  ///< in a row, without a request answered since: each doubles the time
  std::uint64_t ejections_total = 0;
  bool ejected = false;
  asio::steady_timer eject_timer;
  // Membership (pool/server_set_membership.cpp).
  bool draining = false;  ///< a reload removed it: no new request; freed once its last connection ends
  bool probing = false;   ///< a GET_VALUES probe is under way (it refers to this server)
  bool checking = false;  ///< an active health check is under way (it refers to this server)
  // Active health: down after `fall` failed checks, until `rise` pass.
  check_state health;
  asio::steady_timer check_timer;
  bool checked = false;  ///< a check has ended
  bool last_check_passed = false;
  std::string last_check_why;  ///< why the last check failed
  std::chrono::system_clock::time_point last_check_at{};
  slow_start ramp;            ///< --slow-start: its weight while it ramps up
  latency_histogram latency;  ///< of its answered requests (from handed to it to END_REQUEST)
};

class server_set final : public member_home {
 public:
  server_set(asio::io_context& io, const pool_config& cfg, member_events& events);

  /// Asks every server whose limit is not configured for its FCGI_MAX_CONNS.
  void start();
  /// A member (a kept connection, or one to open) of the server the balancer picks, marked busy;
  /// null when no server has room. `avoid` (a remote_server that failed the request) is passed
  /// over while another server is usable, whether or not that one has room now.
  std::shared_ptr<pool_member> take(const void* avoid = nullptr);
  bool empty() const noexcept { return servers_.empty(); }
  /// Requests in flight at the servers.
  std::size_t busy_count() const noexcept;
  /// Whether some server has room for a request now.
  bool has_room() const noexcept;
  /// Whether requests ask the server for FCGI_KEEP_CONN.
  bool keeps_connections(const remote_server& s) const noexcept;
  /// Servers ejected now (passive health).
  std::size_t ejected_count() const noexcept;
  /// Every server is down by its checks (true for a pool without servers): none can serve.
  bool all_down() const noexcept;
  /// Each server as the stats show it; a draining one only while no server of its address is back.
  std::vector<server_info> describe() const;
  /// Closes every idle kept connection and stops the probes (shutdown).
  void stop_all();
  /// No GET_VALUES probe is under way (a probe refers to this set until it ends).
  bool quiet() const noexcept { return probes_ == 0 && !forget_posted_; }
  /// A reload kept the pool: the balancing mode follows, and the servers of the new settings
  /// (pool/server_set_membership.cpp), their names as the reload resolved them: one no longer
  /// there drains (no new request, its requests in flight finish, then it is freed), a new one
  /// starts, a kept one takes its new weight, max-conns and backup.
  void settings_changed();

  // member_home
  void done_with(const std::shared_ptr<pool_member>& m, bool healthy) override;
  void kill_now(pool_member& m) override;
  void refused_kept_connection(pool_member& m) override;

 private:
  void probe(remote_server& s);
  /// Runs the next active check of `s` after check-interval.
  void schedule_check(remote_server& s);
  void check(remote_server& s);
  void check_done(remote_server& s, bool passed, std::string why);
  /// A reload turned the active checks on (check-interval from 0) or off: started or called off.
  void checks_changed();
  /// Closes the idle kept connections of a server that takes no request for a while.
  void drop_idle(remote_server& s);
  /// Counts a failed request; ejects the server after --max-fails in a row, if another member is left.
  void failed(remote_server& s);
  void eject(remote_server& s);
  /// The server takes requests: its limit is known and it is not ejected.
  void update_usable(remote_server& s);
  bool kept_connection_clean(pool_member& m);
  // Slow start (pool/slow_start.hpp).
  /// `s` is to ramp up: now, or at its next passed check when `at_check` and checks run.
  void ramp_up(remote_server& s, bool at_check);
  /// The balancer's weights of the starting servers follow the time.
  void refresh_weights(clock_type::time_point now);
  server_state state_of(const remote_server& s, clock_type::time_point now) const;
  // Membership (pool/server_set_membership.cpp).
  /// A member joins the set (at start, by a reload or a lookup).
  void add_server(const member_spec& m);
  /// The set follows cfg_.servers and known_ (a reload, or a lookup of the names: `by_lookup`);
  /// whether a member was added or drained.
  bool apply_servers(bool by_lookup);
  /// A kept server's new settings; its idle connections past a lower limit close.
  void update_server(remote_server& s, const server_config& c);
  /// A reload or a lookup removed `s`: it takes no request from now on and goes once nothing
  /// refers to it.
  void drain(remote_server& s, bool by_lookup);
  /// A server added by a reload or a lookup starts taking requests (its limit asked first when
  /// not configured).
  void server_joined(remote_server& s, bool by_lookup);
  /// Frees every draining server with no connection and no probe left (never with one of its
  /// members on the stack: from a posted handler, or from a reload).
  void forget_drained();
  /// After a member of a draining server was given back: forget_drained() from a handler of its own.
  void forget_drained_later();
  // Names (pool/server_set_names.cpp).
  /// known_ from the addresses the configuration was resolved with (at start and by a reload).
  void take_configured_names();
  /// The next lookup of the named servers' hosts, after resolve-interval (if any is named).
  void schedule_resolve();
  void resolve_names();
  void names_answered(const name_answers& answers);

  asio::io_context& io_;
  const pool_config& cfg_;
  member_events& events_;
  std::vector<std::unique_ptr<remote_server>> servers_;
  std::vector<balance_slot> slots_;  // servers_[i]'s weight, in flight and limit, for the balancer
  balancer balancer_;
  bool stopped_ = false;
  bool checks_on_ = cfg_.check_interval > seconds::zero();  // as checks_changed() last saw it
  std::size_t probes_ = 0;         // probe() coroutines not yet over
  bool forget_posted_ = false;     // a forget_drained() is queued: it refers to this set
  server_addresses known_;         // each named server's addresses, from its last answered lookup
  std::set<std::string> failing_;  // named servers whose last lookup failed (said once in the log)
  name_resolver resolver_;         // gives up its lookup under way when the set goes
  asio::steady_timer resolve_timer_;
};

}  // namespace fcgimux
