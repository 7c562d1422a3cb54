// SPDX-License-Identifier: ISC
#pragma once
// One active health check of a remote server (docs/remote.md, "Active checks"): FCGI_GET_VALUES,
// or a configured path sent as a real GET request (php-fpm's ping.path answers "pong") whose
// status must be the expected one. On a connection of its own, closed after; never a request of
// the pool's, so it is not counted as one.

#include "src/upstream/endpoint.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <string>

namespace fcgimux {

/// What one check asks.
struct probe_spec {
  std::string path;     ///< empty: GET_VALUES; else SCRIPT_NAME and SCRIPT_FILENAME of a GET
  int status = 200;     ///< the status a path's answer must have
  std::chrono::milliseconds connect_within{2000};
  std::chrono::milliseconds answer_within{2000};
};

/// One check's result.
struct probe_result {
  bool passed = false;
  std::string why;  ///< why it failed, for the log and the stats; empty when passed
};

/// Runs one check of the server at `where`.
asio::awaitable<probe_result> probe_server(asio::any_io_executor ex, const member_endpoint& where, const probe_spec& spec);

/// The records of a check request for `path` (id 1, no FCGI_KEEP_CONN), tested alone.
std::string probe_request(const std::string& path);

}  // namespace fcgimux
