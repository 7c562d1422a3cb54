// SPDX-License-Identifier: ISC
#include "src/core/request.hpp"

#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

#include <string_view>

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

bool request::append_input(std::string& out, std::uint16_t id, input_sent& sent, bool cut) const {
  // An AUTHORIZER gets PARAMS only: python's flup and fcgi.py count the streams a role has and
  // would take an empty STDIN for the end of a request they already ended.
  if (role == proto::role::authorizer) return true;
  const std::string_view in = body;
  const std::string_view stdin_part = in.substr(0, body_stdin);
  const std::string_view data_part = in.substr(stdin_part.size());
  if (!sent.stdin_end) {
    proto::append_stream(out, proto::record_type::stdin_stream, id, stdin_part);
    if (stdin_done || cut) {
      proto::append_stream_end(out, proto::record_type::stdin_stream, id);
      sent.stdin_end = true;
    }
  }
  if (role != proto::role::filter) return sent.stdin_end;
  if (sent.stdin_end && !sent.data_end) {
    proto::append_stream(out, proto::record_type::data, id, data_part);
    if (data_done || cut) {
      proto::append_stream_end(out, proto::record_type::data, id);
      sent.data_end = true;
    }
  }
  return sent.stdin_end && sent.data_end;
}

}  // namespace fcgimux
