// SPDX-License-Identifier: ISC
#pragma once
// A pool's "servers" in a JSON file: an array of {"address", "weight", "max-conns", "backup"}.
// Internal to src/config/.

#include "src/config/config.hpp"

#include <nlohmann/json_fwd.hpp>

#include <vector>

namespace fcgimux::config_detail {

/// The servers of a file's "servers" array; throws config_error naming the bad entry.
std::vector<server_config> servers_from_json(const nlohmann::json& v);

}  // namespace fcgimux::config_detail
