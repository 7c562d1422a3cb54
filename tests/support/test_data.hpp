// SPDX-License-Identifier: ISC
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fcgimux::test {

/// The body every test backend answers `bytes=N` with: byte i is 'a' + i % 26.
std::string pattern_bytes(std::size_t n);

/// `n` pseudo-random bytes (all 256 values occur) fixed by `seed`, for request bodies.
std::string random_bytes(std::size_t n, std::uint64_t seed);

/// Index of the first byte where `a` and `b` differ (or the shorter length), for failure messages.
std::size_t first_difference(const std::string& a, const std::string& b);

}  // namespace fcgimux::test
