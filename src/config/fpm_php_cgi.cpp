// SPDX-License-Identifier: ISC
// Which php-cgi runs a php-fpm pool: the one of php-fpm's own version, as Debian installs them
// side by side (php-fpm8.2 in /usr/sbin, php-cgi8.2 in /usr/bin).

#include "src/config/fpm_map.hpp"

#include <unistd.h>

#include <cstdlib>
#include <regex>

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

std::string find_php_cgi(std::string_view argv0, std::string_view config_path) {
  const auto slash = argv0.rfind('/');
  const std::string dir = slash == std::string_view::npos ? std::string() : std::string(argv0.substr(0, slash));
  const std::string name(slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1));
  std::smatch m;
  std::string version;
  const std::string conf(config_path);
  if (std::regex_match(name, m, std::regex(R"(php-fpm([0-9]+\.[0-9]+))")))
    version = m[1];
  else if (std::regex_search(conf, m, std::regex(R"(/php/([0-9]+\.[0-9]+)/)")))
    version = m[1];
  if (!version.empty()) {
    const std::string versioned = "php-cgi" + version;
    if (!dir.empty() && executable(dir + "/" + versioned)) return dir + "/" + versioned;
    if (auto found = on_path(versioned); !found.empty()) return found;
  }
  return on_path("php-cgi");
}

}  // namespace fcgimux::config_detail
