// SPDX-License-Identifier: ISC
// The AUTHORIZER and FILTER roles at the front (docs/roles.md): which a pool serves, what each
// request holds for its worker, and the records the worker is sent (request::append_input).

#include "front_session_driver.hpp"
#include "proto/decoder.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "src/core/request_home.hpp"

#include <catch2/catch.hpp>

#include <utility>
#include <vector>

using namespace fcgimux;
using fcgimux::test::front_session_driver;
using end = front_session_driver::worker_end;

namespace {

front_session_driver make(front_limits limits) {
  return front_session_driver(std::move(limits), [](const char* what) { FAIL(what); });
}

front_limits serving(std::initializer_list<proto::role> roles) {
  front_limits l;
  l.roles = 0;
  for (auto r : roles) l.roles |= proto::role_bit(r);
  return l;
}

std::string head(std::uint16_t id, proto::role role) {
  std::string b, params;
  proto::append_name_value(params, "SCRIPT_NAME", "/x");
  proto::append_begin_request(b, id, static_cast<std::uint16_t>(role), proto::flag_keep_conn);
  proto::append_stream(b, proto::record_type::params, id, params);
  proto::append_stream_end(b, proto::record_type::params, id);
  return b;
}

std::string stream(proto::record_type t, std::uint16_t id, std::string_view data, bool close) {
  std::string b;
  proto::append_stream(b, t, id, data);
  if (close) proto::append_stream_end(b, t, id);
  return b;
}

// The records a worker would read: (type, content) in order, ends as empty content.
std::vector<std::pair<proto::record_type, std::string>> records_of(std::string_view bytes) {
  std::vector<std::pair<proto::record_type, std::string>> out;
  proto::decoder d;
  while (!bytes.empty()) {
    auto r = d.next(bytes);
    bytes.remove_prefix(r.consumed);
    if (r.ev.type == proto::event_type::stream_data && !out.empty() && out.back().first == r.ev.record() &&
        !out.back().second.empty())
      out.back().second += r.ev.data;
    else if (r.ev.type == proto::event_type::stream_data || r.ev.type == proto::event_type::stream_end)
      out.emplace_back(r.ev.record(), std::string(r.ev.data));
    if (r.ev.type == proto::event_type::error || r.consumed == 0) break;
  }
  return out;
}

struct no_owner final : request_home {
  void request_finished(request&, int) override {}
};

}  // namespace

TEST_CASE("front roles: a role the pool does not serve gets UNKNOWN_ROLE, one it serves is opened with its role") {
  auto d = make(serving({proto::role::responder, proto::role::authorizer}));
  REQUIRE(d.feed(head(1, proto::role::filter)));
  CHECK(d.ended_ids() == std::vector<std::uint16_t>{1});
  CHECK(d.opened() == 0);
  REQUIRE(d.feed(head(3, proto::role::authorizer)));
  REQUIRE(d.opened() == 1);
  CHECK(d.requests()[0]->role == proto::role::authorizer);
  // An AUTHORIZER is whole with its PARAMS: it has no STDIN to wait for.
  CHECK(d.queued() == 1);
  d.finish_all();

  auto only = make(front_limits{});  // the default: responder only, as before roles existed
  REQUIRE(only.feed(head(5, proto::role::authorizer)));
  CHECK(only.ended_ids() == std::vector<std::uint16_t>{5});
  only.finish_all();
}

TEST_CASE("front roles: an AUTHORIZER ignores STDIN its front sends, its worker gets PARAMS only") {
  auto d = make(serving({proto::role::authorizer}));
  REQUIRE(d.feed(head(1, proto::role::authorizer) + stream(proto::record_type::stdin_stream, 1, "junk", true)));
  auto& r = *d.requests().at(0);
  CHECK(r.body.empty());
  CHECK(r.input_done());
  std::string out;
  request::input_sent sent;
  CHECK(r.append_input(out, 1, sent, false));
  CHECK(out.empty());
  d.dispatch();
  d.worker_finishes(end::answer, "Status: 200\r\nVariable-USER: alice\r\n\r\n");
  CHECK(d.stdout_of(1) == "Status: 200\r\nVariable-USER: alice\r\n\r\n");
  d.finish_all();
}

TEST_CASE("front roles: a FILTER waits for its DATA, and its worker gets STDIN then DATA, each ended") {
  auto d = make(serving({proto::role::filter}));
  REQUIRE(d.feed(head(1, proto::role::filter) + stream(proto::record_type::stdin_stream, 1, "in", true)));
  CHECK(d.queued() == 0);  // STDIN ended, DATA not yet
  REQUIRE(d.feed(stream(proto::record_type::data, 1, "file", true)));
  REQUIRE(d.queued() == 1);
  auto& r = *d.requests().at(0);
  CHECK(r.body == "infile");
  CHECK(r.body_stdin == 2);
  std::string out;
  request::input_sent sent;
  CHECK(r.append_input(out, 1, sent, false));
  using rt = proto::record_type;
  CHECK(records_of(out) == std::vector<std::pair<rt, std::string>>{
                               {rt::stdin_stream, "in"}, {rt::stdin_stream, ""}, {rt::data, "file"}, {rt::data, ""}});
  d.finish_all();
}

TEST_CASE("front roles: a FILTER's DATA streams in parts, a front gone ends both streams") {
  no_owner owner;
  request r(std::weak_ptr<front_port>(), owner, 1, false);
  r.role = proto::role::filter;
  r.data_done = false;
  r.body = "ab";
  r.body_stdin = 2;
  using rt = proto::record_type;
  std::string out;
  request::input_sent sent;
  CHECK_FALSE(r.append_input(out, 1, sent, false));  // STDIN still open
  CHECK(records_of(out) == std::vector<std::pair<rt, std::string>>{{rt::stdin_stream, "ab"}});
  r.input_taken();
  r.stdin_done = true;
  r.body = "cd";  // DATA: after STDIN's end
  out.clear();
  CHECK_FALSE(r.append_input(out, 1, sent, false));
  CHECK(records_of(out) == std::vector<std::pair<rt, std::string>>{{rt::stdin_stream, ""}, {rt::data, "cd"}});
  r.input_taken();
  out.clear();
  CHECK(r.append_input(out, 1, sent, true));  // the front left: DATA is closed now
  CHECK(records_of(out) == std::vector<std::pair<rt, std::string>>{{rt::data, ""}});
}

TEST_CASE("front roles: DATA before the end of STDIN closes the connection, DATA of other roles is ignored") {
  auto d = make(serving({proto::role::filter, proto::role::responder}));
  REQUIRE(d.feed(head(1, proto::role::responder) + stream(proto::record_type::data, 1, "x", true) +
                 stream(proto::record_type::stdin_stream, 1, "", true)));
  CHECK(d.requests().at(0)->body.empty());
  CHECK(d.queued() == 1);
  d.finish_all();

  auto f = make(serving({proto::role::filter}));
  CHECK_FALSE(f.feed(head(1, proto::role::filter) + stream(proto::record_type::data, 1, "x", false)));
  f.finish_all();
}

TEST_CASE("front roles: a FILTER's DATA past --body-buffer pauses reading like STDIN") {
  front_limits l = serving({proto::role::filter});
  l.body_buffer = 16;
  auto d = make(l);
  REQUIRE(d.feed(head(1, proto::role::filter) + stream(proto::record_type::stdin_stream, 1, "", true) +
                 stream(proto::record_type::data, 1, std::string(40, 'x'), false)));
  CHECK(d.queued() == 1);  // past the buffer: handed on to stream the rest
  CHECK(d.session().paused());
  d.dispatch();
  d.worker_finishes(end::answer, "");  // takes the DATA; it is not ended, so the request waits
  CHECK_FALSE(d.session().paused());
  REQUIRE(d.feed(stream(proto::record_type::data, 1, "", true)));
  d.worker_finishes(end::answer, "done");
  CHECK(d.stdout_of(1) == "done");
  d.finish_all();
}
