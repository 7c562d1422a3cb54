// SPDX-License-Identifier: ISC
// Which php-cgi runs a php-fpm pool: the one of php-fpm's own version, as Debian installs them
// side by side (php-fpm8.2 in /usr/sbin, php-cgi8.2 in /usr/bin).

#include "src/config/fpm_map.hpp"

#include <unistd.h>

#include <cstdlib>

namespace fcgimux::config_detail {
namespace {

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (!dir.empty() && executable(dir + "/" + name)) return dir + "/" + name;
    if (colon == std::string_view::npos) return {};
    rest.remove_prefix(colon + 1);
  }
}

}  // namespace

std::string fpm_version_at(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  };
  if (!digits() || i >= s.size() || s[i++] != '.' || !digits()) return {};
  if (i < s.size() && s[i] != '/') return {};
  return std::string(s.substr(0, i));
}

std::string find_php_cgi(std::string_view argv0, std::string_view config_path) {
  const auto slash = argv0.rfind('/');
  const std::string dir = slash == std::string_view::npos ? std::string() : std::string(argv0.substr(0, slash));
  const std::string_view name = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  std::string version;
  if (name.rfind("php-fpm", 0) == 0) version = fpm_version_at(name.substr(7));
  // Debian's layout: /etc/php/X.Y/fpm/php-fpm.conf
  for (auto at = config_path.find("/php/"); version.empty() && at != std::string_view::npos;
       at = config_path.find("/php/", at + 1)) {
    const auto rest = config_path.substr(at + 5);
    const auto end = rest.find('/');
    if (end != std::string_view::npos) version = fpm_version_at(rest.substr(0, end));
  }
  if (!version.empty()) {
    const std::string versioned = "php-cgi" + version;
    if (!dir.empty() && executable(dir + "/" + versioned)) return dir + "/" + versioned;
    if (auto found = on_path(versioned); !found.empty()) return found;
  }
  return on_path("php-cgi");
}

}  // namespace fcgimux::config_detail
