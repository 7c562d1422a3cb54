// SPDX-License-Identifier: ISC
#pragma once
// What the option tables (options_*.cpp) share to read a value: numbers, yes/no, modes, and the
// field-named setters. Internal to src/config/.

#include "src/config/options.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux::config_detail {

inline std::size_t to_count(std::string_view name, const std::string& v) {
  std::size_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || p != v.data() + v.size() || v.empty())
    throw config_error(fmt::format("{}: '{}' is not a non-negative whole number", name, v));
  return out;
}

inline double to_number(std::string_view name, const std::string& v, std::string_view unit = "a number of seconds") {
  std::size_t used = 0;
  double d = 0;
  try {
    d = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty() || !std::isfinite(d) || d < 0)
    throw config_error(fmt::format("{}: '{}' is not {}", name, v, unit));
  return d;
}

inline bool to_yes_no(std::string_view name, const std::string& v) {
  if (v == "yes" || v == "true" || v == "on" || v == "1") return true;
  if (v == "no" || v == "false" || v == "off" || v == "0") return false;
  throw config_error(fmt::format("{}: '{}' is not yes or no", name, v));
}

// Octal permission bits, as chmod(1) takes them: 0660, 660, 0600.
inline unsigned to_mode(std::string_view name, const std::string& v) {
  unsigned out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, 8);
  if (ec != std::errc{} || p != v.data() + v.size() || v.empty() || out > 0777)
    throw config_error(fmt::format("{}: '{}' is not an octal mode from 0 to 0777, such as 0660", name, v));
  return out;
}

// The option's name is the field's, with dashes for underscores.
inline std::string option_name(std::string_view field) {
  std::string n(field);
  std::replace(n.begin(), n.end(), '_', '-');
  return n;
}

#define POOL_COUNT(field) [](pool_config& p, const std::string& v) { p.field = to_count(option_name(#field), v); }
#define POOL_SECONDS(field) \
  [](pool_config& p, const std::string& v) { p.field = seconds(to_number(option_name(#field), v)); }

constexpr auto no_process = nullptr;
constexpr auto no_pool = nullptr;
constexpr void (*no_process_list)(config&) = nullptr;
constexpr void (*no_pool_list)(pool_config&) = nullptr;

/// Each table holds the options of one job, in --help's order; options() joins them.
std::vector<option_def> worker_options();   // the pool's workers, their environment, limits, front
std::vector<option_def> server_options();   // remote servers: balancing, health checks
std::vector<option_def> report_options();   // what a pool reports: status and ping pages, slow log, access log
std::vector<option_def> process_options();  // the whole process and the command line's own

}  // namespace fcgimux::config_detail
