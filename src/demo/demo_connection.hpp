// SPDX-License-Identifier: ISC
#pragma once

#include "demo_options.hpp"

#include <cstdint>

namespace fcgimux::demo {

/// Serves one accepted connection until it closes or no longer may be kept; closes `fd`.
/// Counts answered requests in `served`.
void serve_connection(int fd, const demo_options& options, std::uint64_t& served);

}  // namespace fcgimux::demo
