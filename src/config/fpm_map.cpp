// SPDX-License-Identifier: ISC
// Each php-fpm directive (the tables of sapi/fpm/fpm/fpm_conf.c) and what fcgimux makes of it;
// docs/migrating.md has the same table for operators.

#include "src/config/fpm_map.hpp"

#include "src/config/config.hpp"
#include "src/config/fpm_ini.hpp"

#include <fmt/core.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>

namespace fcgimux::config_detail {
namespace {

using json = nlohmann::json;

// fpm_conf_set_integer: digits only (php-fpm lets a leading '-' through for listen.backlog = -1).
long fpm_integer(const fpm_entry& e) {
  std::string_view v = e.value;
  bool negative = !v.empty() && v.front() == '-';
  if (negative) v.remove_prefix(1);
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string_view::npos)
    throw config_error(fmt::format("{}: {}: '{}' is not a whole number", e.where(), e.key, e.value));
  const long n = std::atol(std::string(v).c_str());
  return negative ? -n : n;
}

// fpm_conf_set_time: a number of seconds, or with s, m, h or d.
long fpm_time(const fpm_entry& e) {
  std::string v = e.value;
  long unit = 1;
  if (!v.empty()) switch (v.back()) {
      case 's': v.pop_back(); break;
      case 'm':
        unit = 60;
        v.pop_back();
        break;
      case 'h':
        unit = 3600;
        v.pop_back();
        break;
      case 'd':
        unit = 86400;
        v.pop_back();
        break;
      default: break;
    }
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
    throw config_error(
        fmt::format("{}: {}: '{}' is not a time (seconds, or with s, m, h, d)", e.where(), e.key, e.value));
  return std::atol(v.c_str()) * unit;
}

bool fpm_flag(const fpm_entry& e) {
  auto b = fpm_bool(e.value);
  if (!b) throw config_error(fmt::format("{}: {}: '{}' is not yes or no", e.where(), e.key, e.value));
  return *b;
}

std::string absolute(const std::string& path, const std::string& prefix) {
  return path.empty() || path.front() == '/' ? path : prefix + "/" + path;
}

// php-fpm's listen: a path, PORT (every address), ADDRESS:PORT or [IPV6]:PORT.
std::string listen_address(const std::string& v, const std::string& prefix) {
  if (v.find_first_not_of("0123456789") == std::string::npos) return "0.0.0.0:" + v;
  if (v.find(':') != std::string::npos && v.front() != '/') return v;
  return "unix:" + absolute(v, prefix);
}

// fcgimux's pool names are [a-z0-9_-]+; php-fpm's are free text.
std::string pool_name(const std::string& n) {
  std::string out;
  for (char c : n) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
  for (char& c : out)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) c = '-';
  return out.substr(0, 64);
}

std::optional<std::string> bracketed(const std::string& key, std::string_view name) {
  if (key.size() < name.size() + 2 || key.compare(0, name.size(), name) != 0 || key[name.size()] != '[' ||
      key.back() != ']')
    return std::nullopt;
  return key.substr(name.size() + 1, key.size() - name.size() - 2);
}

// Directives read and knowingly not carried over, with the reason their warning gives.
const std::map<std::string_view, std::string_view>& not_mapped() {
  static const std::map<std::string_view, std::string_view> m = {
      {"syslog.ident", "fcgimux logs to syslog as 'fcgimux'"},
      {"syslog.facility", "fcgimux logs to syslog's daemon facility"},
      {"log_buffering", "fcgimux's log lines are written whole by its writer thread"},
      {"log_limit", "fcgimux keeps a worker's stderr lines whole"},
      {"emergency_restart_threshold",
       "fcgimux never restarts itself: a crash-looping pool backs off its own spawns and answers 503"},
      {"emergency_restart_interval",
       "fcgimux never restarts itself: a crash-looping pool backs off its own spawns and answers 503"},
      {"process.max", "fcgimux limits each pool (pm.max_children), not the sum"},
      {"events.mechanism", "fcgimux uses epoll"},
      {"systemd_interval", "fcgimux sends READY/STOPPING to systemd, no periodic status"},
      {"listen.acl_users", "fcgimux sets a socket's owner and mode, not POSIX ACLs"},
      {"listen.acl_groups", "fcgimux sets a socket's owner and mode, not POSIX ACLs"},
      {"listen.setfib", "FreeBSD only"},
      {"process.dumpable", "fcgimux does not set PR_SET_DUMPABLE on workers"},
      {"pm.status_listen", "fcgimux's stats server (--stats) is the one extra listener"},
      {"request_slowlog_trace_depth",
       "fcgimux reads no PHP stack itself, its fcgimux-php-trace does: add --slowlog-command "
       "'/usr/lib/fcgimux/fcgimux-php-trace {pid} DEPTH' (not added for you: the command keeps fcgimux's "
       "CAP_SYS_PTRACE, and the tool's directory depends on the install prefix and is not on the command's PATH)"},
      {"request_terminate_timeout_track_finished", "fcgimux's --request-timeout ends when the worker answers"},
      {"access.suppress_path", "fcgimux's access log has no per-path filter"},
      {"decorate_workers_output", "fcgimux writes each worker stderr line to its error log in its own format"},
      {"apparmor_hat", "fcgimux does not change AppArmor hats"},
  };
  return m;
}

struct pool_state {
  std::string section;                           // php-fpm's name
  std::string prefix;                            // the pool's prefix directive
  std::map<std::string, const fpm_entry*> last;  // the last value of each plain directive
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> pass_env;
  std::vector<std::string> defines;  // php-cgi -d NAME=VALUE
};

class mapper {
 public:
  mapper(const fpm_source& src, std::vector<std::string>& warnings) : src_(src), warnings_(warnings) {}

  void warn(const fpm_entry& e, std::string_view section, std::string_view why) {
    warnings_.push_back(fmt::format("{}: [{}] {}: {}", e.where(), section, e.key, why));
  }

  void global(const fpm_entry& e, json& out, bool& daemonize) {
    const std::string prefix = src_.prefix.empty() ? "/var" : src_.prefix;  // PHP_LOCALSTATEDIR
    if (e.key == "pid") {
      out["pidfile"] = absolute(e.value, prefix);
    } else if (e.key == "error_log") {
      out["error-log"] = e.value == "syslog" ? "syslog" : absolute(e.value, prefix);
    } else if (e.key == "log_level") {
      if (e.value == "debug")
        out["verbose"] = true;
      else if (e.value == "notice" || e.value == "warning" || e.value == "error" || e.value == "alert")
        warn(e, "global", "fcgimux logs notices, warnings and errors; only debug (--verbose) changes that");
      else
        throw config_error(
            fmt::format("{}: log_level: '{}' is not debug, notice, warning, error or alert", e.where(), e.value));
    } else if (e.key == "daemonize") {
      daemonize = fpm_flag(e);
    } else if (e.key == "process_control_timeout") {
      const long t = fpm_time(e);
      if (t > 0)
        out["stop-grace"] = t;
      else
        warn(e, "global", "0: fcgimux keeps its --stop-grace of 5 s between SIGTERM and SIGKILL");
    } else if (not_mapped().count(e.key)) {
      warn(e, "global", not_mapped().at(e.key));
    } else {
      warn(e, "global", "unknown to php-fpm's global section: ignored");
    }
  }

  void pool_entry(const fpm_entry& e, pool_state& p) {
    if (auto name = bracketed(e.key, "env")) {
      // fpm_env.c: a value "$NAME" is php-fpm's own variable NAME.
      if (e.value.size() > 1 && e.value.front() == '$') {
        const std::string from = e.value.substr(1);
        if (from == *name) {
          p.pass_env.push_back(from);
          return;
        }
        const char* v = std::getenv(from.c_str());
        p.env.emplace_back(*name, v ? v : "");
        return;
      }
      p.env.emplace_back(*name, e.value);
      return;
    }
    for (std::string_view kind : {"php_value", "php_flag", "php_admin_value", "php_admin_flag"}) {
      auto name = bracketed(e.key, kind);
      if (!name) continue;
      const bool flag = kind.find("flag") != std::string_view::npos;
      p.defines.push_back(*name + "=" + (flag ? (fpm_flag(e) ? "1" : "0") : e.value));
      if (kind.find("admin") != std::string_view::npos)
        warn(e, p.section,
             "passed to php-cgi as -d like php_value: ini_set() in a script can still change it (php-cgi has no "
             "admin level; INI_SYSTEM settings stay fixed anyway)");
      return;
    }
    p.last[e.key] = &e;
  }

  json pool(pool_state& p) {
    json j;
    j["name"] = pool_name(p.section);
    auto take = [&](std::string_view key) -> const fpm_entry* {
      auto it = p.last.find(std::string(key));
      if (it == p.last.end()) return nullptr;
      const fpm_entry* e = it->second;
      p.last.erase(it);
      return e;
    };
    const std::string prefix = [&] {
      if (auto e = take("prefix")) return e->value;
      return src_.prefix.empty() ? std::string("/usr") : src_.prefix;
    }();
    const fpm_entry* listen = take("listen");
    if (!listen || listen->value.empty())
      throw config_error(fmt::format("[{}]: no listen address (php-fpm needs one too)", p.section));
    const std::string address = listen_address(listen->value, prefix);
    j["listen"] = json::array({address});
    if (auto e = take("listen.backlog")) j["backlog"] = std::max(0L, fpm_integer(*e));  // -1: the most
    auto owner = take("listen.owner");
    auto group = take("listen.group");
    if (owner || group) {
      if (address.rfind("unix:", 0) != 0) {
        warn(owner ? *owner : *group, p.section, "only a unix socket has an owner");
      } else {
        std::string who = owner ? owner->value : std::to_string(::geteuid());  // php-fpm: the master's user
        if (group) who += ":" + group->value;
        j["socket-owner"] = who;
      }
    }
    if (auto e = take("listen.mode")) j["socket-mode"] = e->value;
    if (auto e = take("listen.allowed_clients")) {
      json allow = json::array();
      std::string_view rest = e->value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string one(rest.substr(0, comma));
        one.erase(0, one.find_first_not_of(' '));
        one.erase(one.find_last_not_of(' ') + 1);
        if (!one.empty()) allow.push_back(one);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      if (address.rfind("unix:", 0) == 0)
        warn(*e, p.section, "a unix socket has no client address (php-fpm ignores it there too)");
      else
        j["allow"] = allow;
    }
    if (auto e = take("user")) j["user"] = e->value;
    if (auto e = take("group")) j["group"] = e->value;
    map_pm(p, j, take);
    if (auto e = take("request_terminate_timeout")) j["request-timeout"] = fpm_time(*e);
    long slow_after = 0;
    if (auto e = take("request_slowlog_timeout")) j["slow-threshold"] = slow_after = fpm_time(*e);
    if (auto e = take("slowlog")) {
      if (slow_after > 0)
        j["slowlog"] = absolute(e->value, prefix);
      else
        warn(*e, p.section,
             "request_slowlog_timeout is 0 or unset: no request is slow, and php-fpm writes none either");
    }
    if (auto e = take("access.log")) j["access-log"] = e->value.empty() ? "off" : absolute(e->value, prefix);
    if (auto e = take("access.format")) j["access-format"] = e->value;
    if (auto e = take("pm.status_path")) j["status-path"] = e->value;
    if (auto e = take("ping.path")) j["ping-path"] = e->value;
    if (auto e = take("ping.response")) j["ping-response"] = e->value;
    if (auto e = take("rlimit_files")) j["rlimit-files"] = e->value;
    if (auto e = take("rlimit_core")) j["rlimit-core"] = e->value;
    if (auto e = take("process.priority")) j["nice"] = e->value;
    if (auto e = take("chroot")) j["chroot"] = e->value;
    if (auto e = take("chdir")) j["chdir"] = e->value;
    bool clear = true;  // php-fpm's default
    if (auto e = take("clear_env")) clear = fpm_flag(*e);
    j["clear-env"] = clear ? "yes" : "no";
    if (auto e = take("catch_workers_output"); e && !fpm_flag(*e))
      warn(*e, p.section, "no: fcgimux always writes a worker's stderr to its error log");
    std::string extensions = ".php .phar";  // php-fpm's default
    if (auto e = take("security.limit_extensions")) extensions = e->value;
    j["limit-extensions"] = extensions;
    json env = json::object();
    for (auto& [k, v] : p.env) env[k] = v;
    if (!env.contains("PHP_FCGI_MAX_REQUESTS"))
      // php-cgi's own limit is 500 requests; php-fpm's pm.max_requests is the one that counts.
      env["PHP_FCGI_MAX_REQUESTS"] = std::to_string(j.value("max-requests", std::size_t{0}));
    j["env"] = env;
    // env[NAME] = $NAME keeps fcgimux's own NAME; without clear_env the workers get it anyway.
    if (clear && !p.pass_env.empty()) j["pass-env"] = p.pass_env;
    for (auto& [key, e] : p.last) {
      if (not_mapped().count(key))
        warn(*e, p.section, not_mapped().at(key));
      else
        warn(*e, p.section, "unknown to php-fpm's pool section: ignored");
    }
    return j;
  }

  template <class Take>
  void map_pm(pool_state& p, json& j, Take& take) {
    const fpm_entry* pm = take("pm");
    const std::string style = pm ? pm->value : "static";
    const fpm_entry* max = take("pm.max_children");
    if (!max) throw config_error(fmt::format("[{}]: pm.max_children is missing (php-fpm needs it too)", p.section));
    const long children = fpm_integer(*max);
    if (children < 1) throw config_error(fmt::format("{}: pm.max_children: must be at least 1", max->where()));
    j["max-workers"] = children;
    const fpm_entry* start = take("pm.start_servers");
    const fpm_entry* min_spare = take("pm.min_spare_servers");
    const fpm_entry* max_spare = take("pm.max_spare_servers");
    const fpm_entry* idle = take("pm.process_idle_timeout");
    if (auto e = take("pm.max_spawn_rate")) j["max-spawn-rate"] = fpm_integer(*e);
    if (auto e = take("pm.max_requests")) j["max-requests"] = std::max(0L, fpm_integer(*e));
    auto unused = [&](const fpm_entry* e) {
      if (e) warn(*e, p.section, fmt::format("not used with pm = {} (php-fpm ignores it too)", style));
    };
    if (style == "static") {
      j["workers"] = children;
      unused(start), unused(min_spare), unused(max_spare), unused(idle);
    } else if (style == "dynamic") {
      // php-fpm's defaults: min 1... start = min + (max - min) / 2.
      const long lo = min_spare ? fpm_integer(*min_spare) : 1;
      const long hi = max_spare ? fpm_integer(*max_spare) : lo;
      const long first = start ? fpm_integer(*start) : lo + (hi - lo) / 2;
      if (lo < 1 || hi < lo || first < lo || first > hi || hi > children)
        throw config_error(
            fmt::format("[{}]: pm = dynamic needs 1 <= pm.min_spare_servers ({}) <= pm.start_servers ({}) <= "
                        "pm.max_spare_servers ({}) <= pm.max_children ({})",
                        p.section, lo, first, hi, children));
      j["workers"] = first;
      j["spare"] = lo;
      j["idle-timeout"] = 10;
      if (max_spare)
        warn(*max_spare, p.section,
             fmt::format("fcgimux releases a worker above pm.start_servers ({}) once it has been idle 10 s "
                         "(--idle-timeout), rather than counting idle workers against {}",
                         first, hi));
      unused(idle);
    } else if (style == "ondemand") {
      j["workers"] = 1;
      j["idle-timeout"] = idle ? fpm_time(*idle) : 10;
      warn(pm ? *pm : *max, p.section,
           "ondemand: fcgimux keeps one worker running (a pool's minimum is at least 1) and starts the others on "
           "demand, each released after pm.process_idle_timeout idle");
      unused(start), unused(min_spare), unused(max_spare);
    } else {
      throw config_error(fmt::format("{}: pm: '{}' is not static, dynamic or ondemand", pm->where(), style));
    }
  }

 private:
  const fpm_source& src_;
  std::vector<std::string>& warnings_;
};

}  // namespace

fpm_translation translate_fpm(const fpm_source& src) {
  fpm_translation t;
  fpm_file file = read_fpm_ini(src.path, src.prefix);
  t.warnings = std::move(file.warnings);
  mapper m(src, t.warnings);
  json& out = t.config;
  out["stats"] = "off";  // php-fpm opens no port but its pools' (--stats adds one)
  bool daemonize = src.daemonize_default;
  // php-fpm merges sections of the same name: so does this, in the order first seen.
  std::vector<pool_state> pools;
  for (const auto& s : file.sections) {
    if (s.name == "global") {
      for (const auto& e : s.entries) m.global(e, out, daemonize);
      continue;
    }
    auto it = std::find_if(pools.begin(), pools.end(), [&](auto& p) { return p.section == s.name; });
    if (it == pools.end()) it = pools.insert(pools.end(), pool_state{s.name, {}, {}, {}, {}, {}});
    for (const auto& e : s.entries) m.pool_entry(e, *it);
  }
  if (pools.empty()) throw config_error(fmt::format("{}: no pool section (php-fpm needs one too)", src.path));
  if (src.daemonize == "yes") daemonize = true;
  if (src.daemonize == "no") daemonize = false;
  if (daemonize) out["daemon"] = true;
  std::string cgi = src.php_cgi.empty() ? find_php_cgi(src.argv0, src.path) : src.php_cgi;
  if (cgi.empty()) throw config_error("php-cgi: not found beside php-fpm or on PATH: give --php-cgi PATH");
  out["pools"] = json::array();
  for (auto& p : pools) {
    json j = m.pool(p);
    std::vector<std::string> command{cgi};
    if (!src.php_ini.empty()) command.insert(command.end(), {"-c", src.php_ini});
    for (auto& d : p.defines) command.insert(command.end(), {"-d", d});
    j["command"] = command;
    out["pools"].push_back(std::move(j));
  }
  return t;
}

}  // namespace fcgimux::config_detail
