// SPDX-License-Identifier: ISC
#include "src/upstream/member.hpp"

#include <fmt/core.h>

namespace fcgimux {

std::string member_name(const pool_member& m) {
  return m.pid > 0 ? fmt::format("worker {}", m.pid) : fmt::format("server {}", m.where.text);
}

}  // namespace fcgimux
