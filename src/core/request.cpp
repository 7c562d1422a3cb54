// SPDX-License-Identifier: ISC
#include "src/core/request.hpp"

#include "proto/name_value.hpp"

namespace fcgimux {

bool request::note_params() {
  constexpr std::size_t keep = 512;
  proto::name_value_reader rd(params);
  proto::name_value nv;
  bool have_uri = false;
  while (rd.next(nv)) {
    if (nv.name == "REQUEST_URI") {
      uri.assign(nv.value.substr(0, keep));
      have_uri = true;
    } else if (nv.name == "SCRIPT_NAME") {
      script_name.assign(nv.value.substr(0, keep));
    }
  }
  if (!have_uri) uri = script_name;
  return !rd.error();
}

}  // namespace fcgimux
