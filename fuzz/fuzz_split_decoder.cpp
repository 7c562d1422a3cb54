// SPDX-License-Identifier: ISC
// The same bytes split at fuzzer-chosen points must decode exactly as when given whole.

#include "fuzz_support.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>

using namespace fcgimux::proto;
using namespace fcgimux::proto::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  decoder_limits limits;
  limits.max_active_requests = fdp.ConsumeIntegralInRange<std::size_t>(0, 8);
  limits.max_params_bytes = fdp.ConsumeIntegralInRange<std::size_t>(0, 70000);
  const bool server_release = fdp.ConsumeBool();
  const bool bytewise = fdp.ConsumeBool();
  const std::size_t n_cuts = fdp.ConsumeIntegralInRange<std::size_t>(0, 16);
  std::vector<std::size_t> raw_cuts;
  for (std::size_t i = 0; i < n_cuts; ++i) raw_cuts.push_back(fdp.ConsumeIntegral<std::uint32_t>());
  const std::string bytes = fdp.ConsumeRemainingBytesAsString();

  std::vector<std::size_t> cuts;
  if (bytewise) {
    for (std::size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
  } else {
    for (std::size_t c : raw_cuts) cuts.push_back(bytes.empty() ? 0 : c % (bytes.size() + 1));
    std::sort(cuts.begin(), cuts.end());
  }

  const normalized whole = decode_pieces(limits, bytes, {}, server_release);
  const normalized split = decode_pieces(limits, bytes, cuts, server_release);
  check(whole == split, "split input decoded differently");
  return 0;
}
