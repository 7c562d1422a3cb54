// SPDX-License-Identifier: ISC
#pragma once
// fcgimux started under the name of the tool it replaces. Invoked as `kfcgi` or `spawn-fcgi` (a
// link to the binary), it takes that tool's command line, translates it into fcgimux's own long
// options and parses those like any other command line: one configuration path, so a compat
// command line is validated, reloaded on SIGHUP and documented exactly as the options it becomes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux {

enum class compat_mode : std::uint8_t {
  none,       ///< fcgimux's own command line
  kfcgi,      ///< kcgi's kfcgi(8)
  spawn_fcgi,  ///< lighttpd's spawn-fcgi(1)
  php_fpm      ///< php-fpm(8): its configuration file, run with php-cgi workers (config/fpm_map.hpp)
};

/// The mode argv[0] asks for, by its basename: `kfcgi` or `fcgimux-kfcgi`, `spawn-fcgi` or
/// `fcgimux-spawn-fcgi`, `php-fpm`, `php-fpmX.Y` or `fcgimux-php-fpm`; anything else is fcgimux itself.
compat_mode compat_mode_of(std::string_view argv0) noexcept;

/// `kfcgi [-drv] [-l backlog] [-n workers] [-N maxworkers] [-p chroot] [-s sockpath] [-u sockuser]
/// [-U procuser] [-w waittime] prog [arg...]` (and fcgimux's long options) as fcgimux's long
/// options. `args` excludes argv[0]. Throws config_error naming the flag.
std::vector<std::string> translate_kfcgi(const std::vector<std::string>& args);

/// `spawn-fcgi [options] [-- prog [args...]]` (and fcgimux's long options) as fcgimux's long
/// options. `args` excludes argv[0]. Throws config_error naming the flag.
std::vector<std::string> translate_spawn_fcgi(const std::vector<std::string>& args);

/// `php-fpm [-y conf] [-p prefix] [-g pid] [-c php.ini] [-tFDRO]` (and fcgimux's long options) as
/// fcgimux's long options; `argv0` names the default file (php-fpm8.2: /etc/php/8.2/fpm/php-fpm.conf).
std::vector<std::string> translate_php_fpm(std::string_view argv0, const std::vector<std::string>& args);

/// The translation for `mode` (the arguments unchanged for none).
std::vector<std::string> translate_command_line(compat_mode mode, const std::vector<std::string>& args,
                                                std::string_view argv0 = {});

/// The refusal to start as root without a workers' user, worded with the flag of `mode`'s tool.
std::string compat_user_required(compat_mode mode);

/// The synopsis --help prints before fcgimux's options in a compat mode; empty for none.
std::string compat_usage(compat_mode mode);

namespace config_detail {

/// A foreign command line split the way POSIX getopt(3) splits it, plus fcgimux's long options.
struct foreign_command_line {
  std::vector<std::pair<char, std::string>> flags;  ///< in the order given; value empty for a plain flag
  std::vector<std::string> own;                     ///< fcgimux long options, each followed by its value
  std::vector<std::string> program;                 ///< everything from the first operand (or after `--`)

  /// --help or --version: nothing will run, so nothing is required.
  bool informs() const;
};

/// Splits `args` by `optstring` (getopt's syntax: a letter followed by ':' takes a value, either
/// attached, `-n2`, or as the next argument; flags may be grouped, `-dr`). Options end at `--` or at
/// the first operand, as POSIX getopt does: GNU getopt's reordering would hand the program's own
/// flags to the launcher. `--NAME[=VALUE]` is one of fcgimux's long options. Errors name `tool`.
foreign_command_line split_foreign(std::string_view tool, std::string_view optstring,
                                   const std::vector<std::string>& args);

/// A whole decimal number in [min, max]; otherwise config_error "TOOL: -F: 'x' is not ...".
long foreign_number(std::string_view tool, char flag, const std::string& value, long min, long max);

}  // namespace config_detail
}  // namespace fcgimux
