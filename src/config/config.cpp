#include "src/config/config.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <string_view>

namespace fcgimux {
namespace {

enum class kind { count, seconds, text, list, flag };

struct option_def {
  std::string_view name;  // long name, also the JSON key
  char short_name;        // 0: none
  kind k;
  std::function<void(config&, const std::string&)> set;
  std::string_view help;
};

std::size_t to_count(const std::string& name, const std::string& v) {
  std::size_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || p != v.data() + v.size() || v.empty())
    throw config_error(fmt::format("--{}: '{}' is not a non-negative whole number", name, v));
  return out;
}

double to_seconds(const std::string& name, const std::string& v) {
  std::size_t used = 0;
  double d = 0;
  try {
    d = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty() || !std::isfinite(d) || d < 0)
    throw config_error(fmt::format("--{}: '{}' is not a number of seconds", name, v));
  return d;
}

bool to_yes_no(const std::string& name, const std::string& v) {
  if (v == "yes" || v == "true" || v == "on" || v == "1") return true;
  if (v == "no" || v == "false" || v == "off" || v == "0") return false;
  throw config_error(fmt::format("--{}: '{}' is not yes or no", name, v));
}

// The option's name is the field's, with dashes for underscores.
std::string option_name(std::string_view field) {
  std::string n(field);
  std::replace(n.begin(), n.end(), '_', '-');
  return n;
}

#define COUNT(field) [](config& c, const std::string& v) { c.field = to_count(option_name(#field), v); }
#define SECONDS(field) [](config& c, const std::string& v) { c.field = to_seconds(option_name(#field), v); }

const std::vector<option_def>& options() {
  static const std::vector<option_def> defs = {
      {"listen", 0, kind::list, [](config& c, const std::string& v) { c.listen.push_back(v); },
       "front listener, HOST:PORT or unix:PATH; repeatable (default 127.0.0.1:9000)"},
      {"workers", 'n', kind::count, COUNT(workers), "workers to start: the pool's minimum (default 4)"},
      {"max-workers", 'N', kind::count, COUNT(max_workers), "the pool's maximum (default: --workers)"},
      {"variable", 'r', kind::flag, [](config& c, const std::string&) { c.variable_pool = true; },
       "variable pool: --max-workers defaults to 2 x --workers (kfcgi's -r)"},
      {"keep-conn", 0, kind::text,
       [](config& c, const std::string& v) {
         if (v == "auto")
           c.keep_conn = keep_conn_mode::auto_;
         else
           c.keep_conn = to_yes_no("keep-conn", v) ? keep_conn_mode::yes : keep_conn_mode::no;
       },
       "yes|no|auto. yes: one kept FCGI_KEEP_CONN connection per worker; no: a connection per request; auto: yes until "
       "a worker closes its first kept connection unanswered and exits (kcgi apps), then no (default auto)"},
      {"worker-sched", 0, kind::text,
       [](config& c, const std::string& v) {
         if (v != "batch" && v != "normal")
           throw config_error(fmt::format("--worker-sched: '{}' is not batch or normal", v));
         c.batch_workers = v == "batch";
       },
       "batch: a woken worker waits for fcgimux's turn to end instead of preempting it; normal: "
       "as started (default batch)"},
      {"config", 'c', kind::text, nullptr, "JSON file with these settings (flags win)"},
      {"stats", 0, kind::text, [](config& c, const std::string& v) { c.stats = v; },
       "stats HTTP endpoint HOST:PORT, or off (default 127.0.0.1:9001)"},
      {"status-path", 0, kind::text, [](config& c, const std::string& v) { c.status_path = v; },
       "a SCRIPT_NAME fcgimux answers itself with its stats (?full, ?metrics), like php-fpm's pm.status_path"},
      {"body-buffer", 0, kind::count, COUNT(body_buffer),
       "request body bytes read before a request takes a worker (default 1048576)"},
      {"max-params", 0, kind::count, COUNT(max_params), "PARAMS bytes per request (default 65536)"},
      {"max-conns", 0, kind::count, COUNT(max_conns), "front connections at once (default 16384)"},
      {"max-reqs", 0, kind::count, COUNT(max_reqs), "request ids in flight per front connection (default 128)"},
      {"output-buffer", 0, kind::count, COUNT(output_buffer),
       "bytes queued for a slow front before its workers pause (default 262144)"},
      {"idle-timeout", 'w', kind::seconds, SECONDS(idle_timeout),
       "seconds an extra worker may stay idle before release (default 300)"},
      {"spare", 0, kind::count, COUNT(spare), "idle workers kept ready below the maximum (default 0)"},
      {"max-spawn-rate", 0, kind::seconds, SECONDS(max_spawn_rate),
       "workers started per second at most (default: 10 x --max-workers)"},
      {"queue-limit", 0, kind::count, COUNT(queue_limit), "requests waiting for a worker (default 1024)"},
      {"queue-timeout", 0, kind::seconds, SECONDS(queue_timeout),
       "seconds a request may wait for a worker; 0 = no limit (default 0)"},
      {"request-timeout", 0, kind::seconds, SECONDS(request_timeout),
       "seconds a worker may spend on one request before it is killed; 0 = off"},
      {"send-timeout", 0, kind::seconds, SECONDS(send_timeout),
       "seconds a front may take no byte of its pending answer before it is closed; 0 = off (default 60)"},
      {"abandon-timeout", 0, kind::seconds, SECONDS(abandon_timeout),
       "seconds a worker may go on with a request whose front left before it is killed; 0 = wait (default 5)"},
      {"max-requests", 0, kind::count, COUNT(max_requests), "retire a worker after N requests; 0 = off"},
      {"slow-threshold", 0, kind::seconds, SECONDS(slow_threshold), "log requests slower than this; 0 = off"},
      {"shutdown-timeout", 0, kind::seconds, SECONDS(shutdown_timeout),
       "seconds to let requests finish on SIGTERM (default 30)"},
      {"stop-grace", 0, kind::seconds, SECONDS(stop_grace),
       "seconds between SIGTERM and SIGKILL when stopping a worker (default 5)"},
      {"verbose", 'v', kind::flag, [](config& c, const std::string&) { c.verbose = true; }, "log more"},
      {"version", 0, kind::flag, [](config& c, const std::string&) { c.show_version = true; }, "print the version"},
      {"help", 'h', kind::flag, [](config& c, const std::string&) { c.show_help = true; }, "this text"},
  };
  return defs;
}

#undef COUNT
#undef SECONDS

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

std::string json_scalar(const std::string& key, const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number()) return fmt::format("{}", v.get<double>());
  throw config_error(fmt::format("config: \"{}\" must be a string, number or boolean", key));
}

void apply_file(config& c, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw config_error(fmt::format("config: cannot open '{}'", path));
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false, true);
  if (j.is_discarded()) throw config_error(fmt::format("config: '{}' is not valid JSON", path));
  if (!j.is_object()) throw config_error(fmt::format("config: '{}' must hold a JSON object", path));
  for (auto& [key, v] : j.items()) {
    if (key == "command") {
      if (!v.is_array() || v.empty()) throw config_error("config: \"command\" must be a non-empty array of strings");
      c.command.clear();
      for (auto& a : v) {
        if (!a.is_string()) throw config_error("config: \"command\" must be a non-empty array of strings");
        c.command.push_back(a.get<std::string>());
      }
      continue;
    }
    const option_def* o = find_long(key);
    if (!o || o->name == "config" || o->name == "help" || o->name == "version")
      throw config_error(fmt::format("config: unknown key \"{}\"", key));
    if (o->k == kind::list) {
      if (v.is_string()) {
        o->set(c, v.get<std::string>());
      } else if (v.is_array()) {
        for (auto& a : v) o->set(c, json_scalar(key, a));
      } else {
        throw config_error(fmt::format("config: \"{}\" must be a string or an array of strings", key));
      }
    } else if (o->k == kind::flag) {
      if (!v.is_boolean()) throw config_error(fmt::format("config: \"{}\" must be true or false", key));
      if (v.get<bool>()) o->set(c, "");
    } else {
      o->set(c, json_scalar(key, v));
    }
  }
}

void check_listen(const std::string& a) {
  if (a.rfind("unix:", 0) == 0) {
    if (a.size() == 5) throw config_error("--listen: unix: needs a path");
    return;
  }
  auto colon = a.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == a.size())
    throw config_error(fmt::format("--listen: '{}' is not HOST:PORT or unix:PATH", a));
  unsigned port = 0;
  auto ps = a.substr(colon + 1);
  auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
  if (ec != std::errc{} || p != ps.data() + ps.size() || port > 65535)
    throw config_error(fmt::format("--listen: '{}' has no valid port", a));
}

void finish(config& c) {
  if (c.show_help || c.show_version) return;
  if (c.listen.empty()) c.listen.push_back("127.0.0.1:9000");
  for (const auto& a : c.listen) check_listen(a);
  if (c.stats != "off") check_listen(c.stats);
  if (c.stats.rfind("unix:", 0) == 0) throw config_error("--stats: must be HOST:PORT or off");
  if (!c.status_path.empty() && c.status_path.front() != '/') throw config_error("--status-path: must start with /");
  if (c.command.empty()) throw config_error("no PROGRAM given (fcgimux [options] -- PROGRAM [ARGS...])");
  if (c.workers == 0) throw config_error("--workers: must be at least 1");
  if (c.max_workers == 0) c.max_workers = c.variable_pool ? 2 * c.workers : c.workers;
  if (c.max_workers < c.workers)
    throw config_error(fmt::format("--max-workers ({}) is below --workers ({})", c.max_workers, c.workers));
  if (c.max_workers > 4096) throw config_error("--max-workers: at most 4096");
  if (c.spare > c.max_workers) throw config_error("--spare: larger than --max-workers");
  if (c.max_reqs == 0 || c.max_reqs > 65535) throw config_error("--max-reqs: 1 to 65535");
  if (c.max_conns == 0) throw config_error("--max-conns: at least 1");
  if (c.max_params < 1024) throw config_error("--max-params: at least 1024");
  if (c.output_buffer < 65536) throw config_error("--output-buffer: at least 65536");
  if (c.max_spawn_rate == 0) c.max_spawn_rate = 10.0 * static_cast<double>(c.max_workers);
}

}  // namespace

config parse_config(int argc, char** argv) {
  config c;
  std::vector<std::pair<const option_def*, std::string>> given;
  std::string config_file;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;  // PROGRAM
    const option_def* o = nullptr;
    std::string value;
    bool has_value = false;
    if (a[1] == '-') {
      auto eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      o = find_long(name);
      if (!o) throw config_error(fmt::format("unknown option '--{}' (see --help)", name));
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        has_value = true;
      }
    } else {
      o = find_short(a[1]);
      if (!o) throw config_error(fmt::format("unknown option '-{}' (see --help)", a[1]));
      if (a.size() > 2) {
        value = a.substr(2);
        has_value = true;
      }
    }
    if (o->k == kind::flag) {
      if (has_value) throw config_error(fmt::format("--{} takes no value", o->name));
    } else if (!has_value) {
      if (i + 1 >= argc) throw config_error(fmt::format("--{} needs a value", o->name));
      value = argv[++i];
    }
    if (o->name == "config")
      config_file = value;
    else
      given.emplace_back(o, value);
  }
  if (!config_file.empty()) apply_file(c, config_file);
  // Lists given on the command line replace the file's, not extend them.
  bool listen_cleared = false;
  for (auto& [o, v] : given) {
    if (o->name == "listen" && !listen_cleared) {
      c.listen.clear();
      listen_cleared = true;
    }
    o->set(c, v);
  }
  if (i < argc) c.command.assign(argv + i, argv + argc);
  finish(c);
  return c;
}

std::string usage_text() {
  std::string s =
      "usage: fcgimux [options] [--] PROGRAM [ARGS...]\n"
      "Runs PROGRAM as a pool of FastCGI workers and proxies FastCGI requests to them.\n\n";
  for (const auto& o : options()) {
    std::string left =
        o.short_name ? fmt::format("  -{}, --{}", o.short_name, o.name) : fmt::format("      --{}", o.name);
    if (o.k != kind::flag) left += o.k == kind::count ? " N" : o.k == kind::seconds ? " SEC" : " VALUE";
    s += fmt::format("{:<30} {}\n", left, o.help);
  }
  return s;
}

}  // namespace fcgimux
