// SPDX-License-Identifier: ISC
#pragma once
// Small helpers for the lifecycle tests: one request, the stats document, waiting for a condition.

#include "tests/support/cgi_response.hpp"
#include "tests/support/fcgi_client.hpp"
#include "tests/support/fcgimux_instance.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace fcgimux::test {

/// The outcome of one GET through fcgimux.
struct get_result {
  read_status how = read_status::timeout;
  cgi_response response;
};

/// GET `uri` (path?query) on a fresh connection.
get_result get(std::uint16_t port, const std::string& uri,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// GET /stats from fcgimux's stats port.
nlohmann::json stats_of(const fcgimux_instance& f);

/// Polls `cond` every 20 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

/// fcgimux with the demo worker, stats on a free port, and the given extra options.
fcgimux_options demo_pool(std::vector<std::string> args);

}  // namespace fcgimux::test
