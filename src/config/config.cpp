// SPDX-License-Identifier: ISC
#include "src/config/config.hpp"

#include "src/config/compat.hpp"
#include "src/config/config_file.hpp"
#include "src/config/fpm_map.hpp"
#include "src/config/names.hpp"
#include "src/config/options.hpp"

#include <fmt/core.h>

#include <unistd.h>

#include <set>

namespace fcgimux {

using namespace config_detail;

process_identity process_identity::current() noexcept { return {::geteuid(), ::getegid()}; }

config parse_config(int argc, char** argv) { return parse_config(argc, argv, process_identity::current()); }

config parse_config(int argc, char** argv, const process_identity& self) {
  config c = read_config(argc, argv, self);
  if (c.show_help || c.show_version) return c;
  apply_names(c, resolve_now(names_to_resolve(c)));
  return c;
}

config read_config(int argc, char** argv) { return read_config(argc, argv, process_identity::current()); }

config read_config(int argc, char** argv, const process_identity& self) {
  // Under the name of kfcgi or spawn-fcgi, that tool's command line becomes fcgimux options first.
  std::vector<std::string> args;
  if (argc > 1) args.assign(argv + 1, argv + argc);
  const compat_mode mode = argc > 0 ? compat_mode_of(argv[0]) : compat_mode::none;
  args = translate_command_line(mode, args, argc > 0 ? argv[0] : "");
  config c;
  std::vector<std::pair<const option_def*, std::string>> given;
  std::string config_file;
  const std::size_t n = args.size();
  std::size_t i = 0;
  for (; i < n; ++i) {
    const std::string& a = args[i];
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
      if (i + 1 >= n) throw config_error(fmt::format("--{} needs a value", o->name));
      value = args[++i];
    }
    if (o->name == "config")
      config_file = value;
    else
      given.emplace_back(o, value);
  }
  std::vector<pool_config> pools{pool_config{}};
  bool pools_file = false;
  // php-fpm's configuration becomes a -c file's JSON first (the flags about it are read now).
  for (auto& [o, v] : given)
    if (o->name.rfind("php-", 0) == 0 || o->name == "print-config") o->set_process(c, v);
  if (c.print_config && c.php_fpm_config.empty()) throw config_error("--print-config: only with --php-fpm-config");
  if (!c.php_fpm_config.empty()) {
    if (!config_file.empty()) throw config_error("--php-fpm-config and -c: give one of them");
    fpm_translation t = translate_fpm({c.php_fpm_config, c.php_fpm_prefix, c.php_cgi, c.php_ini,
                                       argc > 0 ? argv[0] : "", c.php_fpm_daemonize, mode == compat_mode::php_fpm});
    c.warnings = std::move(t.warnings);
    c.printed_config = t.config.dump(2);
    file_settings f = load_json(t.config, c, pool_config{});
    pools = std::move(f.pools);
    pools_file = f.has_pools;
  }
  if (!config_file.empty()) {
    file_settings f = load_file(config_file, c, pool_config{});
    pools = std::move(f.pools);
    pools_file = f.has_pools;
  }
  // Flags win over the file. Lists given on the command line replace the file's, not extend them.
  std::set<const option_def*> cleared;
  for (auto& [o, v] : given) {
    if (o->name == "listen" && pools_file)
      throw config_error("--listen: the pools of the config file have their own listeners");
    if (o->name == "server" && pools_file)
      throw config_error("--server: the pools of the config file have their own servers");
    if (cleared.insert(o).second) {
      if (o->clear_process) o->clear_process(c);
      if (o->clear_pool)
        for (auto& p : pools) o->clear_pool(p);
    }
    if (o->s != scope::pool) {
      o->set_process(c, v);
      continue;
    }
    for (auto& p : pools) o->set_pool(p, v);  // with a pools file: a setting for every pool
  }
  if (c.show_help || c.show_version) return c;
  if (i < n) {
    if (pools_file) throw config_error("a PROGRAM on the command line: the pools of the config file have their own");
    pools.front().command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  }
  c.pools = std::move(pools);
  try {
    finish_process(c, pools_file, self);
  } catch (const user_required&) {
    if (mode == compat_mode::none) throw;
    throw config_error(compat_user_required(mode));
  }
  return c;
}

std::string usage_text() {
  std::string s =
      "usage: fcgimux [options] [--] PROGRAM [ARGS...]\n"
      "       fcgimux -c FILE [options]     (FILE may hold several \"pools\"; see config/pools.json)\n"
      "Runs PROGRAM as a pool of FastCGI workers and proxies FastCGI requests to them.\n\n";
  for (const auto& o : options()) {
    std::string left =
        o.short_name ? fmt::format("  -{}, --{}", o.short_name, o.name) : fmt::format("      --{}", o.name);
    if (o.k != kind::flag)
      left += o.k == kind::count || o.k == kind::rate ? " N" : o.k == kind::seconds ? " SEC" : " VALUE";
    s += fmt::format("{:<30} {}\n", left, o.help);
  }
  return s;
}

}  // namespace fcgimux
