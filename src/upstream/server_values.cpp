// SPDX-License-Identifier: ISC
#include "src/upstream/server_values.hpp"

#include "proto/decoder.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "src/upstream/step_deadline.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <charconv>

namespace fcgimux {
namespace {

constexpr auto values_use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::optional<std::size_t> to_count(std::string_view v) {
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || p != v.data() + v.size() || v.empty()) return std::nullopt;
  return n;
}

}  // namespace

std::string get_values_query() {
  std::string block, out;
  proto::append_name_value(block, proto::var_max_conns, "");
  proto::append_name_value(block, proto::var_max_reqs, "");
  proto::append_name_value(block, proto::var_mpxs_conns, "");
  proto::append_management(out, proto::record_type::get_values, block);
  return out;
}

std::optional<server_values> read_values_answer(std::string_view in, std::error_code& ec) {
  proto::decoder d;
  while (!in.empty()) {
    auto r = d.next(in);
    in.remove_prefix(r.consumed);
    if (r.ev.type == proto::event_type::none) break;
    if (r.ev.type == proto::event_type::error) {
      ec = d.error();
      return std::nullopt;
    }
    if (r.ev.type != proto::event_type::get_values_result) {
      ec = std::make_error_code(std::errc::protocol_error);
      return std::nullopt;
    }
    server_values v;
    proto::name_value_reader pairs(r.ev.data);
    proto::name_value nv;
    while (pairs.next(nv)) {
      // A value that is not a number is ignored, as if the server had not named it.
      if (nv.name == proto::var_max_conns)
        v.max_conns = to_count(nv.value);
      else if (nv.name == proto::var_max_reqs)
        v.max_reqs = to_count(nv.value);
      else if (nv.name == proto::var_mpxs_conns)
        if (auto n = to_count(nv.value)) v.mpxs_conns = *n != 0;
    }
    return v;
  }
  return std::nullopt;
}

asio::awaitable<values_outcome> ask_values(asio::any_io_executor ex, const member_endpoint& where,
                                           std::chrono::milliseconds connect_within,
                                           std::chrono::milliseconds answer_within) {
  values_outcome out;
  asio::generic::stream_protocol::socket sock(ex);
  step_deadline limit(sock);
  limit.arm(connect_within);
  auto [cec] = co_await sock.async_connect(where.address, values_use_tuple);
  const bool connected = !cec && !limit.expired();
  co_await limit.disarm();
  if (!connected) {
    out.connect_error = cec ? cec : std::make_error_code(std::errc::timed_out);
    co_return out;
  }
  limit.arm(answer_within);
  const std::string query = get_values_query();
  auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(query), values_use_tuple);
  std::string got;
  char buf[512];
  while (!wec && !limit.expired() && got.size() < 64 * 1024) {
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), values_use_tuple);
    if (ec) break;
    got.append(buf, n);
    std::error_code bad;
    if (auto v = read_values_answer(got, bad)) {
      out.answered = true;
      out.values = *v;
      break;
    }
    if (bad) break;
  }
  co_await limit.disarm();
  std::error_code ignore;
  sock.close(ignore);
  co_return out;
}

}  // namespace fcgimux
