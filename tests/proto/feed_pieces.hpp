// SPDX-License-Identifier: ISC
#pragma once
// Feeding a decoder its input in pieces, shared by the proto tests and the fuzz targets. Header-only,
// because the fuzz build compiles only proto/ and fuzz/; what to check and record is the caller's.

#include "proto/decoder.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <vector>

namespace fcgimux::proto::test {

/// Feeds `bytes` to `d` cut at `cuts` (ascending), calling next() on each piece until it reports
/// none. Every result goes to `on_result(result, input it was given)`, which returns false to stop
/// the feed; the return value is false when it stopped, true when every piece was fed.
template <class OnResult>
bool feed_pieces(decoder& d, std::string_view bytes, const std::vector<std::size_t>& cuts, OnResult&& on_result) {
  std::size_t start = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : bytes.size();
    std::string_view piece = bytes.substr(start, end - start);
    start = end;
    for (;;) {
      const decode_result r = d.next(piece);
      if (!on_result(r, piece)) return false;
      if (r.ev.type == event_type::none) break;
      piece.remove_prefix(std::min(r.consumed, piece.size()));
    }
  }
  return true;
}

}  // namespace fcgimux::proto::test
