// SPDX-License-Identifier: ISC
#pragma once
// Who may read the stats server (docs/stats.md, "Access"): the client's address against
// --stats-allow, then the bearer token of --stats-token-file. /healthz asks for neither.

#include "src/base/cidr.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux {

/// The allow list and the token; copied into the server at start and on SIGHUP.
struct stats_access {
  std::vector<cidr> allow;  ///< empty: loopback clients only
  std::string token;        ///< empty: no token asked

  /// Whether a client at this address (4 or 16 bytes, network order) may ask.
  bool address_allowed(const std::uint8_t* address, bool v6) const noexcept;
  /// Whether an Authorization field's value carries the token ("Bearer TOKEN"); true without a token.
  bool token_accepted(std::string_view authorization) const noexcept;
};

/// Equal contents, in a time that depends only on the lengths (a token must not leak byte by byte).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace fcgimux
