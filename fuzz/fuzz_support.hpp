// SPDX-License-Identifier: ISC
#pragma once
// Shared by the fuzz targets: decode in pieces, check the decoder's promises on every call, and
// reduce the events to a form that must not depend on the split.

#include "proto/decoder.hpp"
#include "tests/proto/feed_pieces.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux::proto::fuzz {

/// Aborts with a message; libFuzzer reports it as a crash with the input that caused it.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz check failed: %s\n", what);
    std::abort();
  }
}

/// What the decoder made of the bytes: non-data events in order, stream content per (id, type).
struct normalized {
  std::vector<std::string> events;
  std::map<std::string, std::string> streams;
  int error = 0;
  std::size_t consumed = 0;
  bool operator==(const normalized&) const = default;
};

inline std::string describe(const event& ev) {
  std::string s = std::to_string(static_cast<int>(ev.type)) + " t=" + std::to_string(ev.record_raw) +
                  " id=" + std::to_string(ev.request_id);
  switch (ev.type) {
    case event_type::begin_request:
      s += " role=" + std::to_string(ev.role) + " flags=" + std::to_string(ev.flags) +
           " over=" + std::to_string(ev.over_limit);
      break;
    case event_type::end_request:
      s += " app=" + std::to_string(ev.app_status) + " st=" + std::to_string(static_cast<int>(ev.status));
      break;
    case event_type::unknown_type: s += " ut=" + std::to_string(ev.unknown_type); break;
    case event_type::get_values:
    case event_type::get_values_result: s += " data=" + std::string(ev.data); break;
    default: break;
  }
  return s;
}

/// Feeds `bytes` cut at `cuts` (ascending). With `server_release`, ids are released at END_REQUEST
/// and at the end of STDIN, the way a server finishing requests would.
inline normalized decode_pieces(decoder_limits limits, std::string_view bytes, const std::vector<std::size_t>& cuts,
                                bool server_release) {
  decoder d(limits);
  normalized out;
  const bool fed_all = test::feed_pieces(d, bytes, cuts, [&](const decode_result& r, std::string_view given) {
    check(r.consumed <= given.size(), "consumed more than given");
    out.consumed += r.consumed;
    const event& ev = r.ev;
    if (ev.type == event_type::none) {
      check(r.consumed == given.size(), "none without consuming everything");
      return true;
    }
    if (ev.type == event_type::error) {
      check(d.failed(), "error event without error()");
      out.error = d.error().value();
      const decode_result again = d.next(given.substr(r.consumed));
      check(again.consumed == 0 && again.ev.type == event_type::error, "error not sticky");
      return false;
    }
    if (ev.type == event_type::stream_data) {
      check(!ev.data.empty(), "empty stream_data");
      check(ev.data.data() >= given.data() && ev.data.data() + ev.data.size() <= given.data() + r.consumed,
            "stream_data outside the consumed input");
      out.streams[std::to_string(ev.request_id) + "/" + std::to_string(ev.record_raw)] += ev.data;
      return true;
    }
    out.events.push_back(describe(ev));
    if (server_release && (ev.type == event_type::end_request ||
                           (ev.type == event_type::stream_end && ev.record() == record_type::stdin_stream))) {
      d.release(ev.request_id);
    }
    return true;
  });
  if (fed_all)  // an error event ends the feed on purpose
    check(!d.failed(), "failed without an error event");
  return out;
}

}  // namespace fcgimux::proto::fuzz
