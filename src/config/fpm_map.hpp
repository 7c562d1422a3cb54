// SPDX-License-Identifier: ISC
#pragma once
// php-fpm's directives as fcgimux's configuration: the JSON of a -c file, so that --php-fpm-config
// goes through the one configuration path and --print-config can show the operator that file.
// Every directive read is either mapped or named in one warning line that says why not.
// Internal to src/config/.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace fcgimux::config_detail {

/// Where php-fpm's configuration comes from and what php-fpm's command line said about it.
struct fpm_source {
  std::string path;        ///< php-fpm.conf
  std::string prefix;      ///< php-fpm's -p; empty: /usr, Debian's installation prefix
  std::string php_cgi;     ///< --php-cgi; empty: found from argv0's version (find_php_cgi)
  std::string php_ini;     ///< php-fpm's -c: passed to php-cgi as -c
  std::string argv0;       ///< the name fcgimux was started under
  std::string daemonize;   ///< "yes" (-D), "no" (-F) or empty: the file's daemonize
  bool daemonize_default = false;  ///< php-fpm mode: an unset daemonize is php-fpm's yes
};

/// The translation: a -c file's JSON, and one line per directive not mapped (or mapped with a caveat).
struct fpm_translation {
  nlohmann::json config;
  std::vector<std::string> warnings;
};

/// Reads and maps `src`. Throws config_error naming FILE:LINE for a value php-fpm would refuse.
fpm_translation translate_fpm(const fpm_source& src);

/// php-cgi for php-fpm started as `argv0`: php-cgiX.Y beside it (or on PATH) when its name or the
/// configuration's path (/etc/php/X.Y/) carries a version X.Y, else php-cgi on PATH; "" if none.
std::string find_php_cgi(std::string_view argv0, std::string_view config_path);

/// "X.Y" when `s` starts with a version: digits, '.', digits, then the end or '/'; "" otherwise.
std::string fpm_version_at(std::string_view s);

}  // namespace fcgimux::config_detail
