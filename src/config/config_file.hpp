// SPDX-License-Identifier: ISC
#pragma once
// Reading the JSON file given with -c. Internal to src/config/.

#include "src/config/config.hpp"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace fcgimux::config_detail {

/// What the file said. Without "pools" it describes one pool: `pools` holds it alone and
/// `has_pools` is false.
struct file_settings {
  bool has_pools = false;
  std::vector<pool_config> pools;
};

/// Applies the file's process-wide keys to `c` and returns its pools, each started from `base`
/// (the defaults) with the file's top-level pool keys and then its own keys applied.
file_settings load_file(const std::string& path, config& c, const pool_config& base);
/// The same for a file's JSON object already read (--php-fpm-config's translation).
file_settings load_json(const nlohmann::json& j, config& c, const pool_config& base);

}  // namespace fcgimux::config_detail
