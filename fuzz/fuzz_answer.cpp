// SPDX-License-Identifier: ISC
// Arbitrary worker output, split at fuzzer-chosen points, through the exchange's answer reader
// (src/upstream/answer_reader.cpp): whatever the bytes, it never relays STDOUT before a sound head, never
// relays after the end, holds no more than a bounded head, and relays exactly the STDOUT stream a
// plain decoder sees when it accepts the answer.

#include "fuzz_support.hpp"
#include "src/upstream/answer_reader.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>

using namespace fcgimux;
using fcgimux::proto::fuzz::check;

namespace {

// The STDOUT of request 1 up to its END_REQUEST, as a plain decoder reads the whole input.
std::string reference_stdout(std::string_view in) {
  proto::decoder d;
  std::string out;
  while (!in.empty()) {
    auto r = d.next(in);
    in.remove_prefix(r.consumed);
    if (r.ev.type == proto::event_type::error || r.ev.type == proto::event_type::end_request) break;
    if (r.ev.type == proto::event_type::stream_data && r.ev.record() == proto::record_type::stdout_stream)
      out.append(r.ev.data);
    if (r.consumed == 0) break;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  const std::size_t n_cuts = fdp.ConsumeIntegralInRange<std::size_t>(0, 16);
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i < n_cuts; ++i) cuts.push_back(fdp.ConsumeIntegral<std::uint32_t>());
  const std::string bytes = fdp.ConsumeRemainingBytesAsString();
  for (auto& c : cuts) c = bytes.empty() ? 0 : c % (bytes.size() + 1);
  std::sort(cuts.begin(), cuts.end());
  cuts.push_back(bytes.size());

  answer_reader reader(1);
  std::string relayed;
  answer_reader::step_kind last = answer_reader::step_kind::need_more;
  std::size_t at = 0;
  for (std::size_t end : cuts) {
    std::string_view in(bytes.data() + at, end - at);
    at = end;
    while (last == answer_reader::step_kind::need_more) {
      const std::size_t before = in.size();
      auto s = reader.next(in);
      check(in.size() <= before, "the reader grew its input");
      if (s.kind == answer_reader::step_kind::need_more) {
        check(in.empty(), "need_more with bytes left");
        break;
      }
      if (s.kind != answer_reader::step_kind::relay) {
        last = s.kind;
        break;
      }
      if (s.type == proto::record_type::stdout_stream) {
        check(reader.http_status() >= 100, "STDOUT relayed before a sound head");
        relayed.append(s.data);
      } else {
        check(s.type == proto::record_type::stderr_stream, "relayed a record that is neither STDOUT nor STDERR");
      }
    }
  }
  // Once over, it stays over and consumes nothing.
  std::string_view rest("\x01\x06\x00\x01\x00\x01\x00\x00x", 9);
  if (last != answer_reader::step_kind::need_more) {
    check(reader.next(rest).kind == last, "the reader went on after its end");
    check(rest.size() == 9, "the reader consumed after its end");
  }
  const std::string expected = reference_stdout(bytes);
  check(expected.compare(0, relayed.size(), relayed) == 0, "relayed bytes that are not the STDOUT stream");
  if (last == answer_reader::step_kind::end && reader.protocol_status() == proto::protocol_status::request_complete)
    check(relayed == expected, "an accepted answer was not relayed whole");
  if (last == answer_reader::step_kind::broken) check(!reader.why().empty(), "broken without a reason");
  return 0;
}
