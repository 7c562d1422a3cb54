// SPDX-License-Identifier: ISC
#pragma once
// A pool member as the backend exchange sees it: where to connect, the kept connection, the
// request it serves, and the set it came from (member_home), which takes it back. What is behind
// it is an optional part the exchange never looks into: a spawned worker's process (`process`,
// pool/worker_pool.hpp) or a remote FastCGI server's slot (`server`, pool/server_set.hpp).

#include "src/core/request.hpp"
#include "src/stats/pool_stats.hpp"
#include "src/upstream/endpoint.hpp"

#include <asio/generic/stream_protocol.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fcgimux {

struct pool_member;
struct worker;         // a spawned process: pool/worker_pool.hpp
struct remote_server;  // a configured server: pool/server_set.hpp

/// The set a member belongs to (spawned workers, or remote servers): what the exchange's pool
/// asks of it once an exchange is over.
class member_home {
 public:
  /// The exchange is over. `healthy`: the member answered completely and may serve again.
  virtual void done_with(const std::shared_ptr<pool_member>& m, bool healthy) = 0;
  /// The member misbehaved or hangs: a worker is killed (and replaced), a server's connection closed.
  virtual void kill_now(pool_member& m) = 0;
  /// `m` closed a kept connection without answering its first request, as kcgi apps do.
  virtual void refused_kept_connection(pool_member& m) = 0;

 protected:
  ~member_home() = default;
};

struct pool_member final {
  pool_member() = default;
  pool_member(const pool_member&) = delete;
  pool_member& operator=(const pool_member&) = delete;

  member_home* home = nullptr;  ///< set by whoever made it; outlives it
  int pid = -1;                 ///< for the log and the stats; 0: not a process of ours
  member_endpoint where;        ///< where the exchange connects
  member_state state = member_state::starting;
  /// The kept FCGI_KEEP_CONN connection, between and during requests.
  std::optional<asio::generic::stream_protocol::socket> conn;
  std::uint64_t requests = 0;
  std::shared_ptr<request> current;
  bool ended_unanswered = false;    ///< closed a request's connection without answering: a failure
  std::vector<char> read_buffer;    ///< for this member's answers; allocated on first use
  std::shared_ptr<worker> process;  ///< the spawned process behind it; null for a server
  remote_server* server = nullptr;  ///< the server it is a connection to; null for a worker
  /// How long a connect may take; zero: no limit of its own (a worker's unix socket answers at once).
  std::chrono::milliseconds connect_timeout{0};
};

/// "worker PID" or "server ADDRESS", for the log.
std::string member_name(const pool_member& m);

}  // namespace fcgimux
