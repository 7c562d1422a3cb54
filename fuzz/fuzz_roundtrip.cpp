// SPDX-License-Identifier: ISC
// Records derived from the input are encoded, decoded (whole and split) and must come back.

#include "fuzz_support.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <map>

using namespace fcgimux::proto;
using namespace fcgimux::proto::fuzz;

namespace {

event make_event(event_type t, std::uint8_t raw, std::uint16_t id) {
  event ev;
  ev.type = t;
  ev.record_raw = raw;
  ev.request_id = id;
  return ev;
}

// A plain model of the server side (id tracking) for well-formed input, record by record: what
// decode_pieces(limits, wire, cuts, true) must report.
normalized server_model(std::string_view wire, decoder_limits limits) {
  normalized out;
  std::map<std::uint16_t, std::size_t> active;  // id -> PARAMS bytes so far
  while (!wire.empty()) {
    const record_header h = parse_header(wire.data());
    const std::string_view c = wire.substr(header_size, h.content_length);
    const auto* u = reinterpret_cast<const unsigned char*>(c.data());
    const std::size_t header_end = out.consumed + header_size;
    out.consumed += header_size + h.content_length + h.padding_length;
    wire.remove_prefix(header_size + h.content_length + h.padding_length);
    const bool is_active = active.count(h.request_id) != 0;
    event ev = make_event(event_type::none, h.type, h.request_id);
    switch (h.type) {
      case 1:
        if (is_active) {
          out.error = static_cast<int>(errc::duplicate_request_id);
          out.consumed = header_end;
          return out;
        }
        ev.type = event_type::begin_request;
        ev.role = static_cast<std::uint16_t>(u[0] << 8 | u[1]);
        ev.flags = u[2];
        ev.over_limit = active.size() >= limits.max_active_requests;
        if (!ev.over_limit) active[h.request_id] = 0;
        break;
      case 2:
        if (is_active) ev.type = event_type::abort_request;
        break;
      case 3:
        if (!is_active) break;
        ev.type = event_type::end_request;
        ev.app_status = static_cast<std::uint32_t>(u[0]) << 24 | u[1] << 16 | u[2] << 8 | u[3];
        ev.status = static_cast<protocol_status>(u[4]);
        active.erase(h.request_id);
        break;
      case 4:
      case 5:
      case 6:
      case 7:
      case 8:
        if (!is_active) break;
        if (h.type == 4 && (active[h.request_id] += c.size()) > limits.max_params_bytes) {
          out.error = static_cast<int>(errc::params_too_large);
          out.consumed = header_end;
          return out;
        }
        if (!c.empty()) {
          out.streams[std::to_string(h.request_id) + "/" + std::to_string(h.type)] += c;
          break;
        }
        ev.type = event_type::stream_end;
        if (h.type == 5) active.erase(h.request_id);
        break;
      case 9:
      case 10:
        ev.type = h.type == 9 ? event_type::get_values : event_type::get_values_result;
        ev.data = c;
        break;
      case 11:
        ev.type = event_type::unknown_type;
        ev.unknown_type = u[0];
        break;
      default: ev.type = event_type::unknown_record; break;
    }
    if (ev.type != event_type::none) out.events.push_back(describe(ev));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  decoder_limits server;
  server.max_active_requests = fdp.ConsumeIntegralInRange<std::size_t>(1, 4);
  server.max_params_bytes = fdp.ConsumeIntegralInRange<std::size_t>(0, 140000);
  std::string wire;
  normalized expected;
  std::vector<std::string> blocks;  // keeps GET_VALUES blocks alive for the expected events

  for (int op = 0; op < 64 && fdp.remaining_bytes() > 0 && wire.size() < (256u << 10); ++op) {
    // Few ids, so that the server-side model sees requests begin, collide and end.
    const auto id = fdp.ConsumeBool() ? fdp.ConsumeIntegralInRange<std::uint16_t>(1, 4)
                                      : fdp.ConsumeIntegralInRange<std::uint16_t>(1, 65535);
    switch (fdp.ConsumeIntegralInRange<int>(0, 7)) {
      case 0: {
        event ev = make_event(event_type::begin_request, 1, id);
        ev.role = fdp.ConsumeIntegral<std::uint16_t>();
        ev.flags = fdp.ConsumeIntegral<std::uint8_t>();
        append_begin_request(wire, id, ev.role, ev.flags);
        expected.events.push_back(describe(ev));
        break;
      }
      case 1:
        append_abort_request(wire, id);
        expected.events.push_back(describe(make_event(event_type::abort_request, 2, id)));
        break;
      case 2: {
        event ev = make_event(event_type::end_request, 3, id);
        ev.app_status = fdp.ConsumeIntegral<std::uint32_t>();
        ev.status = static_cast<protocol_status>(fdp.ConsumeIntegral<std::uint8_t>());
        append_end_request(wire, id, ev.app_status, ev.status);
        expected.events.push_back(describe(ev));
        break;
      }
      case 3: {
        const auto type = fdp.ConsumeIntegralInRange<std::uint8_t>(4, 8);
        std::string content;
        if (fdp.ConsumeBool()) {
          content = fdp.ConsumeRandomLengthString(2000);
        } else {
          // Long content, cheap to describe: exercises the split into 65535-byte records.
          content.assign(fdp.ConsumeIntegralInRange<std::size_t>(0, 70000), static_cast<char>(op));
        }
        append_stream(wire, static_cast<record_type>(type), id, content);
        if (!content.empty()) expected.streams[std::to_string(id) + "/" + std::to_string(type)] += content;
        break;
      }
      case 4: {
        const auto type = fdp.ConsumeIntegralInRange<std::uint8_t>(4, 8);
        append_stream_end(wire, static_cast<record_type>(type), id);
        expected.events.push_back(describe(make_event(event_type::stream_end, type, id)));
        break;
      }
      case 5: {
        const bool result = fdp.ConsumeBool();
        std::string block;
        const int pairs = fdp.ConsumeIntegralInRange<int>(0, 8);
        for (int i = 0; i < pairs; ++i) {
          const std::string name = fdp.ConsumeRandomLengthString(300);
          const std::string value = fdp.ConsumeRandomLengthString(300);
          append_name_value(block, name, value);
        }
        const auto type = result ? record_type::get_values_result : record_type::get_values;
        append_management(wire, type, block);
        event ev = make_event(result ? event_type::get_values_result : event_type::get_values,
                              static_cast<std::uint8_t>(type), 0);
        ev.data = block;
        expected.events.push_back(describe(ev));
        break;
      }
      case 6: {
        event ev = make_event(event_type::unknown_type, 11, 0);
        ev.unknown_type = fdp.ConsumeIntegral<std::uint8_t>();
        append_unknown_type(wire, ev.unknown_type);
        expected.events.push_back(describe(ev));
        break;
      }
      default: {
        auto type = fdp.ConsumeIntegralInRange<std::uint8_t>(11, 255);
        if (type == 11) type = 0;
        const auto any_id = fdp.ConsumeIntegral<std::uint16_t>();
        append_record(wire, static_cast<record_type>(type), any_id, fdp.ConsumeRandomLengthString(1000));
        expected.events.push_back(describe(make_event(event_type::unknown_record, type, any_id)));
        break;
      }
    }
  }
  expected.consumed = wire.size();
  check(wire.size() % 8 == 0, "encoder did not pad to 8");

  const normalized whole = decode_pieces({}, wire, {}, false);
  check(whole == expected, "decoded records differ from the encoded ones");
  const std::vector<std::size_t> cuts = {wire.size() / 3, wire.size() / 2, std::min(wire.size(), wire.size() / 2 + 1)};
  check(decode_pieces({}, wire, cuts, false) == expected, "split records differ from the encoded ones");

  const normalized model = server_model(wire, server);
  check(decode_pieces(server, wire, {}, true) == model, "server side differs from the model");
  check(decode_pieces(server, wire, cuts, true) == model, "split server side differs from the model");
  return 0;
}
