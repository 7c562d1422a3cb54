// SPDX-License-Identifier: ISC
// php-fpm's command line (sapi/fpm/fpm/fpm_main.c, php-fpm(8)) as fcgimux options: the flags that
// say which configuration to run and how; php-cgi's own flags (-d, -n, -i, -m) are refused by name.

#include "src/config/compat.hpp"
#include "src/config/config.hpp"
#include "src/config/fpm_map.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace fcgimux {

std::vector<std::string> translate_php_fpm(std::string_view argv0, const std::vector<std::string>& args) {
  constexpr std::string_view tool = "php-fpm";
  // GNU long forms, as php-fpm spells them, to their short letters.
  static const std::vector<std::pair<std::string_view, char>> longs = {
      {"--fpm-config", 'y'},           {"--test", 't'},   {"--nodaemonize", 'F'}, {"--daemonize", 'D'},
      {"--allow-to-run-as-root", 'R'}, {"--prefix", 'p'}, {"--pid", 'g'},         {"--php-ini", 'c'},
      {"--force-stderr", 'O'},         {"--help", 'h'},   {"--version", 'v'}};
  std::vector<std::string> shortened;
  for (const auto& a : args) {
    auto hit = std::find_if(longs.begin(), longs.end(), [&](auto& l) { return a == l.first; });
    shortened.push_back(hit == longs.end() ? a : std::string("-") + hit->second);
  }
  const auto line = config_detail::split_foreign(tool, "y:tTFDRp:g:c:Ohv", shortened);
  if (!line.program.empty())
    throw config_error(fmt::format("php-fpm: '{}' is not an option (php-fpm takes no operand)", line.program.front()));
  // php-fpm's built-in default: Debian's for a versioned name, the upstream prefix's otherwise.
  const std::string_view name = argv0.substr(argv0.rfind('/') == std::string_view::npos ? 0 : argv0.rfind('/') + 1);
  const std::string version = name.rfind("php-fpm", 0) == 0 ? config_detail::fpm_version_at(name.substr(7)) : "";
  std::string conf =
      version.empty() ? "/usr/local/etc/php-fpm.conf" : fmt::format("/etc/php/{}/fpm/php-fpm.conf", version);
  std::vector<std::string> out;
  std::string daemonize;
  for (const auto& [flag, value] : line.flags) {
    switch (flag) {
      case 'y': conf = value; break;
      case 't':
      case 'T': out.push_back("--check-config"); break;
      case 'F': daemonize = "no"; break;
      case 'D': daemonize = "yes"; break;
      case 'R': break;  // fcgimux's rule decides: user = root runs workers as root, with a warning
      case 'p': out.insert(out.end(), {"--php-fpm-prefix", value}); break;
      case 'g': out.insert(out.end(), {"--pidfile", value}); break;
      case 'c': out.insert(out.end(), {"--php-ini", value}); break;
      case 'O': out.insert(out.end(), {"--error-log", "stderr"}); break;
      case 'h': out.push_back("--help"); break;
      case 'v': out.push_back("--version"); break;
    }
  }
  out.insert(out.end(), {"--php-fpm-config", conf});
  // Neither -F nor -D: the file's daemonize, php-fpm's default yes (parse_config knows the mode).
  if (!daemonize.empty()) out.insert(out.end(), {"--php-fpm-daemonize", daemonize});
  out.insert(out.end(), line.own.begin(), line.own.end());
  return out;
}

}  // namespace fcgimux
