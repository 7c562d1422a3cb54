// SPDX-License-Identifier: ISC
// Whole input to the decoder, client side (no tracking) and server side (tracking, small limits).

#include "fuzz_support.hpp"
#include "proto/name_value.hpp"

#include <cstdint>

using namespace fcgimux::proto;
using namespace fcgimux::proto::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (const decoder_limits limits : {decoder_limits{}, decoder_limits{512, 3}}) {
    decoder d(limits);
    std::string_view in = bytes;
    for (;;) {
      const decode_result r = d.next(in);
      check(r.consumed <= in.size(), "consumed more than given");
      in.remove_prefix(r.consumed);
      if (r.ev.type == event_type::none || r.ev.type == event_type::error) break;
      if (r.ev.type == event_type::get_values || r.ev.type == event_type::get_values_result) {
        check(!validate_name_values(r.ev.data), "invalid name-value block passed as valid");
      }
      if (r.ev.type == event_type::begin_request && !r.ev.over_limit && limits.max_active_requests > 0) {
        check(d.is_active(r.ev.request_id), "begun request not active");
      }
      check(d.active_requests() <= limits.max_active_requests, "more active requests than allowed");
      if (r.ev.type == event_type::end_request) d.release(r.ev.request_id);
    }
  }
  return 0;
}
