// SPDX-License-Identifier: ISC
#include "src/config/config_file.hpp"

#include "src/config/options.hpp"
#include "src/config/servers.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace fcgimux::config_detail {
namespace {

using json = nlohmann::json;

std::string json_scalar(const std::string& key, const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number()) return fmt::format("{}", v.get<double>());
  throw config_error(fmt::format("\"{}\" must be a string, number or boolean", key));
}

std::vector<std::string> string_array(const std::string& key, const json& v) {
  std::vector<std::string> out;
  if (v.is_array() && !v.empty())
    for (auto& a : v) {
      if (!a.is_string()) break;
      out.push_back(a.get<std::string>());
    }
  if (out.empty() || out.size() != v.size())
    throw config_error(fmt::format("\"{}\" must be a non-empty array of strings", key));
  return out;
}

std::vector<std::pair<std::string, std::string>> environment(const json& v) {
  if (!v.is_object()) throw config_error("\"env\" must be an object of strings, {\"NAME\": \"value\"}");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [name, value] : v.items()) {
    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos)
      throw config_error(fmt::format("env: '{}' is not a variable name", name));
    if (!value.is_string()) throw config_error(fmt::format("env: \"{}\" must be a string", name));
    out.emplace_back(name, value.get<std::string>());
  }
  return out;
}

// One key of a pool object (or of the top level, for the defaults of every pool).
void apply_pool_key(pool_config& p, const std::string& key, const json& v) {
  if (key == "command") {
    p.command = string_array(key, v);
    return;
  }
  if (key == "servers") {
    p.servers = servers_from_json(v);
    return;
  }
  if (key == "env") {
    // A pool's variables are added to the top level's, replacing those of the same name.
    for (auto& [name, value] : environment(v)) {
      auto same = std::find_if(p.env.begin(), p.env.end(), [&](auto& kv) { return kv.first == name; });
      if (same != p.env.end())
        same->second = std::move(value);
      else
        p.env.emplace_back(std::move(name), std::move(value));
    }
    return;
  }
  const option_def* o = find_long(key);
  if (!o || o->s != scope::pool) throw config_error(fmt::format("unknown key \"{}\"", key));
  if (o->k == kind::list) {
    if (o->clear_pool) o->clear_pool(p);  // a pool's list replaces the defaults', not extends them
    if (v.is_string())
      o->set_pool(p, v.get<std::string>());
    else if (v.is_array())
      for (auto& a : v) o->set_pool(p, json_scalar(key, a));
    else
      throw config_error(fmt::format("\"{}\" must be a string or an array of strings", key));
  } else if (o->k == kind::flag) {
    if (!v.is_boolean()) throw config_error(fmt::format("\"{}\" must be true or false", key));
    if (v.get<bool>()) o->set_pool(p, "");
  } else {
    o->set_pool(p, json_scalar(key, v));
  }
}

void apply_process_key(config& c, const option_def& o, const std::string& key, const json& v) {
  if (o.k == kind::list) {
    if (o.clear_process) o.clear_process(c);
    if (v.is_string())
      o.set_process(c, v.get<std::string>());
    else if (v.is_array())
      for (auto& a : v) o.set_process(c, json_scalar(key, a));
    else
      throw config_error(fmt::format("\"{}\" must be a string or an array of strings", key));
  } else if (o.k == kind::flag) {
    if (!v.is_boolean()) throw config_error(fmt::format("\"{}\" must be true or false", key));
    if (v.get<bool>()) o.set_process(c, "");
  } else {
    o.set_process(c, json_scalar(key, v));
  }
}

pool_config load_pool(const json& j, std::size_t index, const pool_config& defaults) {
  if (!j.is_object()) throw config_error(fmt::format("pools[{}] must be an object", index));
  auto name = j.find("name");
  if (name == j.end() || !name->is_string())
    throw config_error(fmt::format("pools[{}]: \"name\" is missing (a string)", index));
  pool_config p = defaults;
  p.name = name->get<std::string>();
  try {
    for (auto& [key, v] : j.items())
      if (key != "name") apply_pool_key(p, key, v);
  } catch (const config_error& e) {
    throw config_error(fmt::format("pool \"{}\": {}", p.name, e.what()));
  }
  return p;
}

}  // namespace

file_settings load_file(const std::string& path, config& c, const pool_config& base) {
  std::ifstream in(path);
  if (!in) throw config_error(fmt::format("config: cannot open '{}'", path));
  json j = json::parse(in, nullptr, false, true);
  if (j.is_discarded()) throw config_error(fmt::format("config: '{}' is not valid JSON", path));
  if (!j.is_object()) throw config_error(fmt::format("config: '{}' must hold a JSON object", path));
  return load_json(j, c, base);
}

file_settings load_json(const nlohmann::json& j, config& c, const pool_config& base) {
  file_settings out;
  pool_config defaults = base;
  const json* pools = nullptr;
  try {
    for (auto& [key, v] : j.items()) {
      if (key == "pools") {
        if (!v.is_array() || v.empty()) throw config_error("\"pools\" must be a non-empty array of objects");
        pools = &v;
        continue;
      }
      const option_def* o = find_long(key);
      if (o && o->s == scope::process)
        apply_process_key(c, *o, key, v);
      else
        apply_pool_key(defaults, key, v);
    }
    if (pools && !defaults.listen.empty())
      throw config_error("\"listen\" belongs in each pool when the file has \"pools\"");
    if (pools && !defaults.command.empty())
      throw config_error("\"command\" belongs in each pool when the file has \"pools\"");
  } catch (const config_error& e) {
    throw config_error(fmt::format("config: {}", e.what()));
  }
  if (!pools) {
    out.pools.push_back(std::move(defaults));
    return out;
  }
  out.has_pools = true;
  for (std::size_t i = 0; i < pools->size(); ++i) out.pools.push_back(load_pool((*pools)[i], i, defaults));
  return out;
}

}  // namespace fcgimux::config_detail
