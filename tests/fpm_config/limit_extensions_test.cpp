// SPDX-License-Identifier: ISC
// security.limit_extensions' check on a PARAMS block.

#include "proto/name_value.hpp"
#include "src/pool/limit_extensions.hpp"

#include <catch2/catch.hpp>

namespace {

std::string block(std::initializer_list<std::pair<std::string, std::string>> pairs) {
  std::string out;
  for (auto& [n, v] : pairs) fcgimux::proto::append_name_value(out, n, v);
  return out;
}

}  // namespace

TEST_CASE("limit-extensions: SCRIPT_FILENAME must end in one of the extensions", "[fpm]") {
  const std::vector<std::string> php{".php", ".phar"};
  CHECK(fcgimux::script_allowed(block({{"SCRIPT_FILENAME", "/srv/index.php"}}), php));
  CHECK(fcgimux::script_allowed(block({{"QUERY_STRING", "a"}, {"SCRIPT_FILENAME", "/srv/x.phar"}}), php));
  CHECK_FALSE(fcgimux::script_allowed(block({{"SCRIPT_FILENAME", "/srv/upload/cat.jpg"}}), php));
  CHECK_FALSE(fcgimux::script_allowed(block({{"SCRIPT_FILENAME", "/srv/x.php.txt"}}), php));
  CHECK_FALSE(fcgimux::script_allowed(block({{"SCRIPT_FILENAME", "php"}}), php));
  CHECK(fcgimux::script_allowed(block({{"SCRIPT_NAME", "/x.jpg"}}), php));  // none sent: as php-fpm
  CHECK(fcgimux::script_allowed(block({{"SCRIPT_FILENAME", "/srv/cat.jpg"}}), {}));  // off
}
