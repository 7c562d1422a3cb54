// SPDX-License-Identifier: ISC
#include "src/config/compat.hpp"

#include "src/config/options.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>

namespace fcgimux {

compat_mode compat_mode_of(std::string_view argv0) noexcept {
  const auto slash = argv0.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  if (name == "kfcgi" || name == "fcgimux-kfcgi") return compat_mode::kfcgi;
  if (name == "spawn-fcgi" || name == "fcgimux-spawn-fcgi") return compat_mode::spawn_fcgi;
  if (name == "php-fpm" || name == "fcgimux-php-fpm" ||
      (name.rfind("php-fpm", 0) == 0 && name.size() > 7 &&
       name.substr(7).find_first_not_of("0123456789.") == std::string_view::npos))
    return compat_mode::php_fpm;
  return compat_mode::none;
}

std::vector<std::string> translate_command_line(compat_mode mode, const std::vector<std::string>& args,
                                                std::string_view argv0) {
  switch (mode) {
    case compat_mode::php_fpm: return translate_php_fpm(argv0, args);
    case compat_mode::kfcgi: return translate_kfcgi(args);
    case compat_mode::spawn_fcgi: return translate_spawn_fcgi(args);
    case compat_mode::none: break;
  }
  return args;
}

std::string compat_user_required(compat_mode mode) {
  switch (mode) {
    case compat_mode::kfcgi:
      return "kfcgi: started as root: name the workers' user with -U procuser (--user root runs them as root, "
             "with a warning)";
    case compat_mode::spawn_fcgi:
      return "spawn-fcgi: started as root: name the workers' user with -u user (--user root runs them as root, "
             "with a warning)";
    case compat_mode::php_fpm:
      return "php-fpm: started as root: each pool needs its user = (user = root runs its workers as root, with a "
             "warning)";
    case compat_mode::none: break;
  }
  return "fcgimux runs as root: name the workers' user with --user (--user root to really run them as root)";
}

std::string compat_usage(compat_mode mode) {
  switch (mode) {
    case compat_mode::kfcgi:
      return "usage: kfcgi [-drv] [-l backlog] [-n workers] [-N maxworkers] [-p chroot] [-s sockpath]\n"
             "             [-u sockuser] [-U procuser] [-w waittime] [--fcgimux-option ...] [--] prog [arg...]\n"
             "fcgimux in kfcgi(8)'s place: the flags keep kfcgi's meaning, and fcgimux supervises the\n"
             "workers (see docs/migrating.md). fcgimux's own long options below are accepted too.\n\n";
    case compat_mode::spawn_fcgi:
      return "usage: spawn-fcgi [-a addr] [-p port | -s path] [-F forks] [-C childs] [-b backlog] [-M mode]\n"
             "                  [-u user] [-g group] [-U sockuser] [-G sockgroup] [-c chroot] [-S] [-d dir]\n"
             "                  [-P pidfile] [-n] [--fcgimux-option ...] [-f 'cmd' | -- prog [args...]]\n"
             "fcgimux in spawn-fcgi's place: the flags keep spawn-fcgi's meaning, but fcgimux stays and\n"
             "supervises the workers: -n keeps it in the foreground, otherwise it daemonises (see\n"
             "docs/migrating.md). fcgimux's own long options below are accepted too.\n\n";
    case compat_mode::php_fpm:
      return "usage: php-fpm [-y conf] [-p prefix] [-g pid] [-c php.ini] [-t] [-F | -D] [-R] [-O] [--fcgimux-option ...]\n"
             "fcgimux in php-fpm's place: it reads php-fpm's configuration (-y, default the one of php-fpm's\n"
             "version) and runs each pool with php-cgi workers; -F keeps it in the foreground, -D sends it to\n"
             "the background, otherwise the file's daemonize decides (default yes). See docs/migrating.md.\n"
             "fcgimux's own long options below are accepted too.\n\n";
    case compat_mode::none: break;
  }
  return {};
}

namespace config_detail {

foreign_command_line split_foreign(std::string_view tool, std::string_view optstring,
                                   const std::vector<std::string>& args) {
  foreign_command_line out;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
      const auto eq = a.find('=');
      const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const option_def* o = find_long(name);
      if (!o) throw config_error(fmt::format("{}: unknown option '--{}' (see --help)", tool, name));
      out.own.push_back(a);
      if (eq == std::string::npos && o->k != kind::flag) {
        if (i + 1 >= args.size()) throw config_error(fmt::format("{}: --{} needs a value", tool, name));
        out.own.push_back(args[++i]);
      }
      continue;
    }
    if (a.size() < 2 || a[0] != '-') break;  // the program
    for (std::size_t j = 1; j < a.size(); ++j) {
      const char c = a[j];
      const auto at = optstring.find(c);
      if (c == ':' || at == std::string_view::npos)
        throw config_error(fmt::format("{}: unknown option -{} (see --help)", tool, c));
      if (at + 1 < optstring.size() && optstring[at + 1] == ':') {
        std::string value = a.substr(j + 1);
        if (value.empty()) {
          if (i + 1 >= args.size()) throw config_error(fmt::format("{}: -{} needs a value", tool, c));
          value = args[++i];
        }
        out.flags.emplace_back(c, std::move(value));
        break;
      }
      out.flags.emplace_back(c, std::string());
    }
  }
  out.program.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return out;
}

bool foreign_command_line::informs() const {
  return std::any_of(own.begin(), own.end(), [](const std::string& a) { return a == "--help" || a == "--version"; });
}

long foreign_number(std::string_view tool, char flag, const std::string& value, long min, long max) {
  long n = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc{} || p != value.data() + value.size() || n < min || n > max)
    throw config_error(fmt::format("{}: -{}: '{}' is not a whole number from {} to {}", tool, flag, value, min, max));
  return n;
}

}  // namespace config_detail
}  // namespace fcgimux
