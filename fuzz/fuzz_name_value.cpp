// SPDX-License-Identifier: ISC
// Name-value blocks: the reader, validation, lookup and re-encoding must agree.

#include "fuzz_support.hpp"
#include "proto/name_value.hpp"

#include <cstdint>

using namespace fcgimux::proto;
using namespace fcgimux::proto::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view block(reinterpret_cast<const char*>(data), size);
  name_value_reader reader(block);
  std::vector<name_value> pairs;
  name_value nv;
  std::size_t bytes = 0;
  while (reader.next(nv)) {
    check(nv.name.data() >= block.data() && nv.value.data() + nv.value.size() <= block.data() + block.size(),
          "pair outside the block");
    bytes += nv.name.size() + nv.value.size();
    pairs.push_back(nv);
  }
  check(static_cast<bool>(reader.error()) == static_cast<bool>(validate_name_values(block)),
        "reader and validate disagree");
  check(!reader.next(nv), "reader continued after its end");
  check(bytes <= block.size(), "pairs larger than the block");

  if (!pairs.empty()) {
    const lookup_result first = find_name_value(block, pairs[0].name);
    check(first.found && first.value == pairs[0].value, "lookup missed the first pair");
  }

  // The canonical encoding of the pairs read back gives the same pairs and is never longer.
  std::string again;
  std::size_t expected_size = 0;
  for (const auto& p : pairs) {
    append_name_value(again, p.name, p.value);
    expected_size += encoded_size(p.name, p.value);
  }
  check(again.size() == expected_size, "encoded_size disagrees with append_name_value");
  if (!reader.error()) check(again.size() <= block.size(), "canonical encoding longer than the input");
  name_value_reader back(again);
  for (const auto& p : pairs) {
    check(back.next(nv) && nv.name == p.name && nv.value == p.value, "re-encoded pair differs");
  }
  check(!back.next(nv) && !back.error(), "re-encoded block has extra bytes");
  return 0;
}
