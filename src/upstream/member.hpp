#pragma once
// A pool member as the backend exchange sees it: somewhere to connect, the kept connection, the
// request it serves. A spawned worker (pool/worker_pool.hpp) is one kind; a remote FastCGI server
// would be another, with no process of ours behind it (pid 0).

#include "src/core/request.hpp"

#include <asio/generic/stream_protocol.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fcgimux {

enum class member_state : std::uint8_t { starting, idle, busy, stopping };

struct pool_member {
  pool_member() = default;
  pool_member(const pool_member&) = delete;
  pool_member& operator=(const pool_member&) = delete;
  virtual ~pool_member() = default;

  int pid = -1;             ///< for the log and the stats; 0: not a process of ours
  std::string socket_path;  ///< where the exchange connects (a unix socket path)
  member_state state = member_state::starting;
  /// The kept FCGI_KEEP_CONN connection, between and during requests (--keep-conn yes).
  std::optional<asio::generic::stream_protocol::socket> conn;
  std::uint64_t requests = 0;
  std::shared_ptr<request> current;
  bool ended_unanswered = false;  ///< closed a request's connection without answering: a failure
  std::vector<char> read_buffer;  ///< for this member's answers; allocated on first use
};

}  // namespace fcgimux
