// SPDX-License-Identifier: ISC
#include "src/config/options.hpp"

#include "src/config/access_format.hpp"
#include "src/config/accounts.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

namespace fcgimux::config_detail {

void check_listen(std::string_view key, const std::string& a) {
  if (a.rfind("unix:", 0) == 0) {
    if (a.size() == 5) throw config_error(fmt::format("{}: unix: needs a path", key));
    return;
  }
  auto colon = a.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == a.size())
    throw config_error(fmt::format("{}: '{}' is not HOST:PORT or unix:PATH", key, a));
  unsigned port = 0;
  auto ps = a.substr(colon + 1);
  auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
  if (ec != std::errc{} || p != ps.data() + ps.size() || port > 65535)
    throw config_error(fmt::format("{}: '{}' has no valid port", key, a));
}

namespace {

// A log path is kept absolute: SIGUSR1 reopens it by name, whatever the working directory is by then.
std::string log_path(std::string_view key, const std::string& v) {
  if (v.empty()) throw config_error(fmt::format("{}: needs a path", key));
  return std::filesystem::absolute(v).lexically_normal().string();
}

// The secret is read here, with the rest of the configuration, so that a SIGHUP that cannot read
// it fails as a whole and keeps the token in use.
std::string read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(fmt::format("stats-token-file: cannot open '{}'", path));
  std::string token(4097, '\0');
  in.read(token.data(), static_cast<std::streamsize>(token.size()));
  token.resize(static_cast<std::size_t>(in.gcount()));
  if (token.size() > 4096) throw config_error(fmt::format("stats-token-file: '{}' holds more than 4096 bytes", path));
  while (!token.empty() &&
         (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' || token.back() == '\t'))
    token.pop_back();
  if (token.empty()) throw config_error(fmt::format("stats-token-file: '{}' is empty", path));
  // RFC 6750's b64token: what a client can send after "Bearer " without quoting
  for (char ch : token) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    std::string_view{"-._~+/="}.find(ch) != std::string_view::npos;
    if (!ok)
      throw config_error(
          fmt::format("stats-token-file: '{}' must hold one token of letters, digits and -._~+/= (one line)", path));
  }
  return token;
}

bool valid_pool_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char ch : n)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) return false;
  return true;
}

// --user/--group as the rules of docs/privileges.md want them, resolved once here: the child of
// fork may not look names up.
void resolve_workers(pool_config& p, const process_identity& self) {
  worker_credentials& w = p.credentials;
  w = {};
  std::optional<user_entry> user;
  std::optional<group_entry> group;
  if (!p.user.empty() && !(user = find_user(p.user)))
    throw config_error(fmt::format("user: no user '{}' on this system", p.user));
  if (!p.group.empty() && !(group = find_group(p.group)))
    throw config_error(fmt::format("group: no group '{}' on this system", p.group));
  if (self.uid != 0) {
    // Without root nothing can change ids: the workers run as fcgimux does, and saying otherwise is a mistake.
    if (user && user->uid != self.uid)
      throw config_error(
          fmt::format("user: fcgimux runs as {} (uid {}), not as root: its workers run as that user, not as '{}'",
                      user_name(self.uid), self.uid, p.user));
    if (group && group->gid != self.gid)
      throw config_error(
          fmt::format("group: fcgimux runs with group {} (gid {}), not as root: its workers keep that group, not '{}'",
                      group_name(self.gid), self.gid, p.group));
    if (!p.chroot.empty()) throw config_error("chroot: needs fcgimux to be started as root");
    w.uid = self.uid;
    w.gid = self.gid;
    w.user_name = user_name(self.uid);
    w.group_name = group_name(self.gid);
    return;
  }
  if (!user)
    throw user_required(
        "fcgimux runs as root: name the workers' user with --user (--user root to really run them as root)");
  if (!user->known && !group)
    throw config_error(
        fmt::format("user: uid {} has no passwd entry, so no primary group: name one with --group", user->uid));
  w.change = true;
  w.uid = user->uid;
  w.gid = group ? group->gid : user->gid;
  w.groups = user->known ? groups_of(user->name, w.gid) : std::vector<gid_t>{w.gid};
  w.user_name = user->known ? user->name : std::to_string(user->uid);
  w.group_name = group_name(w.gid);
}

void resolve_socket_owner(pool_config& p, const process_identity& self) {
  p.socket_ids = {};
  if (p.socket_owner.empty()) return;
  const auto colon = p.socket_owner.find(':');
  const std::string user_part = p.socket_owner.substr(0, colon);
  const std::string group_part = colon == std::string::npos ? std::string() : p.socket_owner.substr(colon + 1);
  auto user = find_user(user_part);
  if (user_part.empty() || !user)
    throw config_error(fmt::format("socket-owner: no user '{}' on this system", user_part));
  std::optional<group_entry> group;
  if (colon != std::string::npos && (group_part.empty() || !(group = find_group(group_part))))
    throw config_error(fmt::format("socket-owner: no group '{}' on this system", group_part));
  if (!group && !user->known)
    throw config_error(fmt::format("socket-owner: uid {} has no passwd entry: give USER:GROUP", user->uid));
  if (self.uid != 0 && user->uid != self.uid)
    throw config_error(
        fmt::format("socket-owner: only root may give a socket to another user than {}", user_name(self.uid)));
  p.socket_ids = {true, user->uid, group ? group->gid : user->gid};
}

}  // namespace

void finish_pool(pool_config& p, bool only_pool, const process_identity& self) {
  if (!valid_pool_name(p.name)) throw config_error("name: must be 1 to 64 of [a-z0-9_-]");
  if (p.listen.empty()) {
    if (!only_pool) throw config_error("listen: a pool needs at least one listener");
    p.listen.push_back("127.0.0.1:9000");
  }
  for (const auto& a : p.listen) check_listen("listen", a);
  if (p.command.empty() && p.servers.empty()) {
    if (only_pool) throw config_error("no PROGRAM given (fcgimux [options] -- PROGRAM [ARGS...]), and no --server");
    throw config_error("command: a pool needs a PROGRAM [ARGS...]");
  }
  for (auto& s : p.servers) check_server(s);
  if (!p.servers.empty() && std::all_of(p.servers.begin(), p.servers.end(), [](auto& s) { return s.backup; }) &&
      p.command.empty())
    throw config_error("server: every server is a backup: a pool needs one that is not");
  if (p.connect_timeout <= seconds::zero()) throw config_error("connect-timeout: must be more than 0");
  if (p.eject_time <= seconds::zero()) throw config_error("eject-time: must be more than 0");
  if (p.check_timeout <= seconds::zero()) throw config_error("check-timeout: must be more than 0");
  if (p.rise == 0) throw config_error("rise: must be at least 1");
  if (p.fall == 0) throw config_error("fall: must be at least 1");
  if (p.command.empty()) {
    // A pool of servers only spawns nothing: its minimum and maximum are 0, so the scaler never starts a worker.
    p.workers = p.max_workers = p.spare = 0;
  }
  if (p.workers == 0 && !p.command.empty()) throw config_error("workers: must be at least 1");
  if (p.max_workers == 0) p.max_workers = p.variable_pool ? 2 * p.workers : p.workers;
  if (p.max_workers < p.workers)
    throw config_error(fmt::format("max-workers ({}) must be >= workers ({})", p.max_workers, p.workers));
  if (p.max_workers > 4096) throw config_error("max-workers: at most 4096");
  if (p.spare > p.max_workers) throw config_error("spare: larger than max-workers");
  if (p.max_reqs == 0 || p.max_reqs > 65535) throw config_error("max-reqs: 1 to 65535");
  if (p.max_params < 1024) throw config_error("max-params: at least 1024");
  if (p.output_buffer < 65536) throw config_error("output-buffer: at least 65536");
  if (p.roll_surge == 0 || p.roll_surge > 4096) throw config_error("roll-surge: 1 to 4096");
  // A unix listener has no peer address: an --allow that could never apply would only mislead.
  if (!p.allow.empty() && !p.listen.empty() &&
      std::all_of(p.listen.begin(), p.listen.end(), [](const std::string& a) { return a.rfind("unix:", 0) == 0; }))
    throw config_error("allow: applies to TCP listeners, and the pool has only unix ones (use --socket-mode)");
  if (p.max_spawn_rate == 0) p.max_spawn_rate = 10.0 * static_cast<double>(p.max_workers);
  if (p.access_log != "off" && p.access_log != "-") p.access_log = log_path("access-log", p.access_log);
  if (p.access_format.empty()) p.access_format = default_access_format;
  if (p.slowlog != "off") {
    // An entry is written past the threshold: without one, the log would stay empty for ever.
    if (p.slow_threshold <= seconds::zero()) throw config_error("slowlog: needs a slow-threshold above 0");
    if (p.slowlog != "-") p.slowlog = log_path("slowlog", p.slowlog);
  }
  if (!p.slowlog_command.empty() && p.slowlog == "off") throw config_error("slowlog-command: needs a slowlog");
  if (p.slowlog_command.find('\0') != std::string::npos) throw config_error("slowlog-command: holds a NUL byte");
  if (p.slowlog_timeout <= seconds::zero()) throw config_error("slowlog-timeout: must be above 0");
  parse_access_format(p.access_format);
  if (!p.chroot.empty() && p.chroot.front() != '/') throw config_error("chroot: must be an absolute path");
  if (!p.chdir.empty() && p.chdir.front() != '/')
    throw config_error("chdir: must be an absolute path (inside --chroot when given)");
  if (!p.pass_env.empty() && !p.clear_env)
    throw config_error("pass-env: only means something with --clear-env yes (without it workers get everything)");
  if (!p.command.empty()) resolve_workers(p, self);  // a pool of servers only runs nothing as anybody
  resolve_socket_owner(p, self);
  // php-fpm's status page and ping (docs/php-fpm-status.md).
  if (!p.status_path.empty() && p.status_path.front() != '/') throw config_error("status-path: must start with /");
  if (!p.ping_path.empty() && p.ping_path.front() != '/') throw config_error("ping-path: must start with /");
  if (!p.ping_path.empty() && p.ping_path == p.status_path)
    throw config_error("ping-path: must differ from status-path");
}

void finish_process(config& c, bool named_pools, const process_identity& self) {
  if (c.stats != "off") check_listen("stats", c.stats);
  if (c.stats.rfind("unix:", 0) == 0) throw config_error("stats: must be HOST:PORT or off");
  if (!c.stats_token_file.empty()) {
    c.stats_token_file = log_path("stats-token-file", c.stats_token_file);
    c.stats_token = read_token_file(c.stats_token_file);
  }
  if (c.max_conns == 0) throw config_error("max-conns: at least 1");
  if (c.error_log != "stderr" && c.error_log != "syslog") c.error_log = log_path("error-log", c.error_log);
  const bool several = named_pools;
  std::map<std::string, std::string> owner;  // listen address -> pool
  std::map<std::string, bool> names;
  for (auto& p : c.pools) {
    try {
      finish_pool(p, !several, self);
    } catch (const config_error& e) {
      if (!several) throw;  // unchanged, so that a compat mode can still tell user_required apart
      throw config_error(fmt::format("pool \"{}\": {}", p.name, e.what()));
    }
    if (!names.emplace(p.name, true).second)
      throw config_error(fmt::format("pool \"{}\": a second pool of that name", p.name));
    for (const auto& a : p.listen) {
      if (a.ends_with(":0")) continue;  // each gets a port of its own from the kernel
      auto [it, fresh] = owner.emplace(a, p.name);
      if (!fresh)
        throw config_error(it->second == p.name ? fmt::format("pool \"{}\": listen: '{}' given twice", p.name, a)
                                                : fmt::format("pool \"{}\": listen: '{}' is already pool \"{}\"'s",
                                                              p.name, a, it->second));
      if (a == c.stats) throw config_error(fmt::format("pool \"{}\": listen: '{}' is the stats address", p.name, a));
    }
  }
  // Comparing the listeners as resolved addresses waits for the names (config/names.cpp).
}

}  // namespace fcgimux::config_detail
