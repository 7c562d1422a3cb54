// SPDX-License-Identifier: ISC
#pragma once
// php-fpm's configuration file as php-fpm reads it (sapi/fpm/fpm/fpm_conf.c): one line at a time
// through PHP's INI scanner in its normal mode, `[name]` sections, `include=` globs followed after
// the line that names them, `$pool` replaced by the pool's name in every value of a pool, and
// `${NAME}` replaced by the environment's NAME. Only reading: what the directives mean is
// fpm_map's job. Internal to src/config/.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux::config_detail {

/// One `key = value` line, with where it was written.
struct fpm_entry {
  std::string key;    ///< as written, `env[PATH]` included
  std::string value;  ///< after quoting, `${NAME}`, the scanner's booleans and `$pool`
  std::string file;
  int line = 0;

  /// "FILE:LINE", for messages.
  std::string where() const;
};

/// A `[name]` section and its entries in the order read (includes inlined where they stood).
struct fpm_section {
  std::string name;  ///< "global" for [global] and for what comes before the first section
  std::string file;
  int line = 0;
  std::vector<fpm_entry> entries;
};

/// What was read, and the notes php-fpm itself would log while reading (an include matching nothing).
struct fpm_file {
  std::vector<fpm_section> sections;  ///< a name may appear twice: php-fpm merges them, so does fpm_map
  std::vector<std::string> warnings;
};

/// Reads an environment variable; the default is getenv.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// Reads `path` and its includes. A relative include is taken from `prefix` (php-fpm's -p, else its
/// installation prefix, /usr on Debian), as fpm_evaluate_full_path does. Throws config_error with
/// "FILE:LINE: what" for a line php-fpm would refuse.
fpm_file read_fpm_ini(const std::string& path, const std::string& prefix, const env_lookup& env = {});

/// One INI value as the scanner's normal mode gives it: quoted parts joined, `${NAME}` expanded
/// outside single quotes, a `;` comment cut, and an unquoted yes/on/true as "1", no/off/false/none
/// as "". Throws config_error("what") for an unterminated quote.
std::string fpm_ini_value(std::string_view raw, const env_lookup& env);

/// php-fpm's booleans once scanned: "1", "yes", "true", "on" or "", "0", "no", "none", "false", "off".
std::optional<bool> fpm_bool(std::string_view v);

}  // namespace fcgimux::config_detail
