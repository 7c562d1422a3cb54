// SPDX-License-Identifier: ISC
#include "src/upstream/health_probe.hpp"

#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "src/upstream/answer_reader.hpp"
#include "src/upstream/server_values.hpp"
#include "src/upstream/step_deadline.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fmt/core.h>

namespace fcgimux {
namespace {

constexpr auto probe_use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::uint16_t probe_id = 1;
// A check answer is a few bytes ("pong"); one that goes on is not a health check's.
constexpr std::size_t max_answer = 64 * 1024;

asio::awaitable<probe_result> ask_path(asio::any_io_executor ex, const member_endpoint& where, const probe_spec& spec) {
  probe_result out;
  asio::generic::stream_protocol::socket sock(ex);
  step_deadline limit(sock);
  limit.arm(spec.connect_within);
  auto [cec] = co_await sock.async_connect(where.address, probe_use_tuple);
  const bool expired_connect = limit.expired();
  co_await limit.disarm();
  if (cec || expired_connect) {
    out.why = cec && !expired_connect ? fmt::format("connect: {}", cec.message()) : "connect timed out";
    co_return out;
  }
  limit.arm(spec.answer_within);
  const std::string req = probe_request(spec.path);
  auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(req), probe_use_tuple);
  answer_reader answer(probe_id);
  std::size_t got = 0;
  char buf[4096];
  bool ended = false;
  std::error_code rec = wec;
  while (!rec && !limit.expired() && !ended && got < max_answer) {
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), probe_use_tuple);
    if (ec) {
      rec = ec;
      break;
    }
    got += n;
    std::string_view in(buf, n);
    while (!ended) {
      auto step = answer.next(in);
      if (step.kind == answer_reader::step_kind::need_more) break;
      if (step.kind == answer_reader::step_kind::broken) {
        out.why = "answer not valid FastCGI: " + answer.why();
        co_await limit.disarm();
        co_return out;
      }
      if (step.kind == answer_reader::step_kind::end) ended = true;
    }
  }
  co_await limit.disarm();
  std::error_code ignore;
  sock.close(ignore);
  if (!ended)
    out.why = limit.expired() ? "no answer in time" : rec ? fmt::format("read: {}", rec.message()) : "answer too long";
  else if (answer.protocol_status() != proto::protocol_status::request_complete)
    out.why = fmt::format("refused (protocol status {})", static_cast<int>(answer.protocol_status()));
  else if (answer.http_status() != spec.status)
    out.why = fmt::format("status {}, not {}", answer.http_status(), spec.status);
  else
    out.passed = true;
  co_return out;
}

}  // namespace

std::string probe_request(const std::string& path) {
  std::string params, out;
  proto::append_name_value(params, "GATEWAY_INTERFACE", "CGI/1.1");
  proto::append_name_value(params, "REQUEST_METHOD", "GET");
  proto::append_name_value(params, "SCRIPT_NAME", path);
  proto::append_name_value(params, "SCRIPT_FILENAME", path);
  proto::append_name_value(params, "REQUEST_URI", path);
  proto::append_name_value(params, "QUERY_STRING", "");
  proto::append_name_value(params, "SERVER_PROTOCOL", "HTTP/1.1");
  proto::append_name_value(params, "SERVER_SOFTWARE", "fcgimux-check");
  proto::append_begin_request(out, probe_id, static_cast<std::uint16_t>(proto::role::responder), 0);
  proto::append_stream(out, proto::record_type::params, probe_id, params);
  proto::append_stream_end(out, proto::record_type::params, probe_id);
  proto::append_stream_end(out, proto::record_type::stdin_stream, probe_id);
  return out;
}

asio::awaitable<probe_result> probe_server(asio::any_io_executor ex, const member_endpoint& where,
                                           const probe_spec& spec) {
  if (!spec.path.empty()) co_return co_await ask_path(ex, where, spec);
  values_outcome got = co_await ask_values(ex, where, spec.connect_within, spec.answer_within);
  probe_result out;
  if (got.connect_error)
    out.why = fmt::format("connect: {}", got.connect_error.message());
  else if (!got.answered)
    out.why = "no FCGI_GET_VALUES answer in time";
  else
    out.passed = true;
  co_return out;
}

}  // namespace fcgimux
