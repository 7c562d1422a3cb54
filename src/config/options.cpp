// SPDX-License-Identifier: ISC
#include "src/config/option_parse.hpp"

namespace fcgimux::config_detail {

const std::vector<option_def>& options() {
  static const std::vector<option_def> defs = [] {
    std::vector<option_def> all;
    for (auto part : {worker_options, server_options, report_options, process_options}) {
      auto some = part();
      all.insert(all.end(), some.begin(), some.end());
    }
    return all;
  }();
  return defs;
}

const option_def* find_long(std::string_view name) {
  for (const auto& o : options())
    if (o.name == name) return &o;
  return nullptr;
}

const option_def* find_short(char c) {
  for (const auto& o : options())
    if (o.short_name == c) return &o;
  return nullptr;
}

}  // namespace fcgimux::config_detail
