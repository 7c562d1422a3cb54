// SPDX-License-Identifier: ISC
#include "src/config/servers.hpp"

#include "src/config/names.hpp"
#include "src/config/options.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <sys/un.h>

#include <charconv>
#include <cstring>

namespace fcgimux::config_detail {
namespace {

// A server may take at most this many requests at once; more is a typo, not a server.
constexpr std::size_t max_server_conns = 65535;
constexpr std::size_t max_weight = 1000;

std::size_t to_count(std::string_view key, std::string_view v, std::size_t lo, std::size_t hi) {
  std::size_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || p != v.data() + v.size() || v.empty() || out < lo || out > hi)
    throw config_error(fmt::format("server: {} '{}' is not a whole number from {} to {}", key, v, lo, hi));
  return out;
}

}  // namespace

server_config parse_server(const std::string& spec) {
  server_config s;
  std::string_view rest(spec);
  auto comma = rest.find(',');
  s.address = std::string(rest.substr(0, comma));
  while (comma != std::string_view::npos) {
    rest.remove_prefix(comma + 1);
    comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    auto eq = item.find('=');
    std::string_view key = item.substr(0, eq), value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (key == "weight" && eq != std::string_view::npos)
      s.weight = to_count("weight", value, 1, max_weight);
    else if (key == "max-conns" && eq != std::string_view::npos)
      s.max_conns = to_count("max-conns", value, 1, max_server_conns);
    else if (key == "backup" && eq == std::string_view::npos)
      s.backup = true;
    else
      throw config_error(fmt::format("server: '{}' is not weight=N, max-conns=N or backup", item));
  }
  return s;
}

std::vector<server_config> servers_from_json(const nlohmann::json& v) {
  if (!v.is_array() || v.empty()) throw config_error("\"servers\" must be a non-empty array of objects");
  std::vector<server_config> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto& j = v[i];
    auto where = [i](std::string_view what) { return config_error(fmt::format("servers[{}]: {}", i, what)); };
    if (!j.is_object()) throw where("must be an object with an \"address\"");
    server_config s;
    for (auto& [key, value] : j.items()) {
      if (key == "address" && value.is_string()) {
        s.address = value.get<std::string>();
      } else if ((key == "weight" || key == "max-conns") && value.is_number_unsigned()) {
        auto n = std::to_string(value.get<std::uint64_t>());
        if (key == "weight")
          s.weight = to_count("weight", n, 1, max_weight);
        else
          s.max_conns = to_count("max-conns", n, 1, max_server_conns);
      } else if (key == "backup" && value.is_boolean()) {
        s.backup = value.get<bool>();
      } else if (key == "address" || key == "weight" || key == "max-conns" || key == "backup") {
        throw where(fmt::format("\"{}\" has the wrong type", key));
      } else {
        throw where(fmt::format("unknown key \"{}\"", key));
      }
    }
    if (s.address.empty()) throw where("\"address\" is missing (a string)");
    out.push_back(std::move(s));
  }
  return out;
}

void check_server(server_config& s) {
  const std::string& a = s.address;
  s.resolved.clear();
  s.named = false;
  if (a.rfind("unix:", 0) == 0) {
    sockaddr_un un{};
    const std::string path = a.substr(5);
    if (path.empty() || path.front() != '/')
      throw config_error(fmt::format("server: '{}': unix: needs an absolute path", a));
    if (path.size() >= sizeof un.sun_path) throw config_error(fmt::format("server: '{}': the path is too long", a));
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    resolved_address r;
    std::memcpy(&r.address, &un, sizeof un);
    r.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    s.resolved.push_back(r);
    return;
  }
  check_listen("server", a);
  const host_port hp = split_host_port(a);
  if (hp.port == 0) throw config_error(fmt::format("server: '{}' needs a port other than 0", a));
  // A host name is looked up with the configuration's other names (config/names.hpp), never here:
  // this runs on the event loop at a reload.
  if (auto literal = literal_address(hp.host, hp.port))
    s.resolved.push_back(*literal);
  else
    s.named = true;
}

}  // namespace fcgimux::config_detail
