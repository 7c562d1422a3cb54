// SPDX-License-Identifier: ISC
#pragma once
// Test helpers: feed bytes to a decoder in pieces and reduce what it produced to a form that must
// not depend on where the bytes were split.

#include "proto/decoder.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace fcgimux::proto::test {

/// What a decoder made of some bytes, independent of how they were split.
struct decoded {
  std::vector<std::string> events;             ///< every event but stream_data, described
  std::map<std::string, std::string> streams;  ///< "id/TYPE" -> concatenated stream content
  std::error_code error;
  std::size_t consumed = 0;  ///< bytes consumed in total
  bool operator==(const decoded&) const = default;
};

/// A textual description of one event; views are copied out.
std::string describe(const event& ev);

/// Called after each event, e.g. to release() ids the way a server would.
using event_hook = std::function<void(decoder&, const event&)>;

/// Feeds `bytes` cut at the given offsets (ascending) to `d`, handling every event.
decoded decode_pieces(decoder& d, std::string_view bytes, const std::vector<std::size_t>& cuts,
                      const event_hook& hook = {});
decoded decode_whole(decoder_limits limits, std::string_view bytes, const event_hook& hook = {});
decoded decode_bytewise(decoder_limits limits, std::string_view bytes, const event_hook& hook = {});

/// Checks that every two-piece split and the byte-at-a-time feed give the whole-input result.
void require_split_invariant(decoder_limits limits, std::string_view bytes, const event_hook& hook = {});

/// Lower-case hex of the bytes, for readable failure messages.
std::string hex(std::string_view s);

/// Contents of tests/fixtures/<name>; empty when missing.
std::string read_fixture(const std::string& name);
std::vector<std::string> fixture_names();

}  // namespace fcgimux::proto::test

template <>
struct Catch::StringMaker<fcgimux::proto::test::decoded> {
  static std::string convert(const fcgimux::proto::test::decoded& d);
};
