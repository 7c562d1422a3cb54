// SPDX-License-Identifier: ISC
// The front session without a socket: records in, records out, and the request lifecycle of the
// model in front_session_driver.hpp.

#include "front_session_driver.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

#include <catch2/catch.hpp>

using namespace fcgimux;
using fcgimux::test::front_session_driver;
using end = front_session_driver::worker_end;

namespace {

front_session_driver make(front_limits limits = {}) {
  return front_session_driver(std::move(limits), [](const char* what) { FAIL(what); });
}

std::string request_bytes(std::uint16_t id, std::uint8_t flags, std::string_view body, std::string_view script = "/x",
                          bool close_stdin = true) {
  std::string b, params;
  proto::append_name_value(params, "SCRIPT_NAME", script);
  proto::append_begin_request(b, id, 1, flags);
  proto::append_stream(b, proto::record_type::params, id, params);
  proto::append_stream_end(b, proto::record_type::params, id);
  proto::append_stream(b, proto::record_type::stdin_stream, id, body);
  if (close_stdin) proto::append_stream_end(b, proto::record_type::stdin_stream, id);
  return b;
}

}  // namespace

TEST_CASE(
    "front session: a request is queued when whole, answered under its id, and the connection closes without "
    "KEEP_CONN") {
  auto d = make();
  REQUIRE(d.feed(request_bytes(7, 0, "body")));
  CHECK(d.queued() == 1);
  d.dispatch();
  d.worker_finishes(end::answer, "Status: 200\r\n\r\nhi");
  CHECK(d.stdout_of(7) == "Status: 200\r\n\r\nhi");
  CHECK(d.ended_ids() == std::vector<std::uint16_t>{7});
  CHECK(d.session().closed());
  d.finish_all();
  CHECK(d.ended() == 1);
}

TEST_CASE("front session: multiplexed ids, aborts and a close give every request one end") {
  auto d = make();
  std::string in = request_bytes(1, proto::flag_keep_conn, "a") + request_bytes(3, proto::flag_keep_conn, "b") +
                   request_bytes(5, proto::flag_keep_conn, "c");
  REQUIRE(d.feed(in));
  CHECK(d.queued() == 3);
  d.dispatch();  // id 1 at a worker
  std::string abort;
  proto::append_abort_request(abort, 1);
  proto::append_abort_request(abort, 3);
  REQUIRE(d.feed(abort));
  // Both get their END_REQUEST at once; 3 leaves the queue, 1 stays with its worker.
  CHECK(d.ended_ids() == std::vector<std::uint16_t>{1, 3});
  CHECK(d.queued() == 1);
  CHECK(d.at_worker() == 1);
  d.worker_finishes(end::answer, "late");
  CHECK(d.stdout_of(1).empty());  // an aborted request's answer is discarded
  d.finish_all();
  CHECK(d.ended() == 3);
}

TEST_CASE("front session: a body past the buffer pauses reading until the worker takes it") {
  front_limits l;
  l.body_buffer = 16;
  auto d = make(l);
  REQUIRE(d.feed(request_bytes(1, 0, std::string(40, 'x'), "/x", false)));
  CHECK(d.queued() == 1);
  CHECK(d.session().paused());
  d.dispatch();
  d.worker_finishes(end::answer, "");  // takes the body; STDIN is not done, so it waits
  CHECK_FALSE(d.session().paused());
  d.finish_all();
}

TEST_CASE("front session: management records, refused roles and ids past the limit") {
  front_limits l;
  l.max_reqs = 1;
  auto d = make(l);
  std::string in, q;
  proto::append_name_value(q, proto::var_mpxs_conns, "");
  proto::append_management(in, proto::record_type::get_values, q);
  proto::append_begin_request(in, 2, 3, proto::flag_keep_conn);  // FILTER: refused
  in += request_bytes(4, proto::flag_keep_conn, "", "/x", false);
  proto::append_begin_request(in, 6, 1, proto::flag_keep_conn);  // past --max-reqs
  REQUIRE(d.feed(in));
  CHECK(d.ended_ids() == std::vector<std::uint16_t>{2, 6});
  CHECK(d.answers().front() == proto::event_type::get_values_result);
  d.finish_all();
  CHECK(d.opened() == 1);
}

TEST_CASE("front session: --status-path is answered without the queue, a drain closes once idle") {
  front_limits l;
  l.status_path = "/status";
  auto d = make(l);
  REQUIRE(d.feed(request_bytes(1, proto::flag_keep_conn, "", "/status")));
  CHECK(d.queued() == 0);
  CHECK(d.ended_ids() == std::vector<std::uint16_t>{1});
  REQUIRE(d.feed(request_bytes(2, proto::flag_keep_conn, "")));
  d.drain();
  CHECK_FALSE(d.session().closed());  // request 2 is still open
  d.dispatch();
  d.worker_finishes(end::answer, "ok");
  CHECK(d.session().closed());
  d.finish_all();
}

TEST_CASE("front session: not taking requests answers at once, bad bytes close") {
  auto d = make();
  d.taking = false;
  REQUIRE(d.feed(request_bytes(1, proto::flag_keep_conn, "")));
  CHECK(d.ended_ids() == std::vector<std::uint16_t>{1});
  CHECK(d.queued() == 0);
  CHECK_FALSE(d.feed("GET / HTTP/1.1\r\n\r\n"));
  CHECK(d.session().closed());
  d.finish_all();
}

namespace {

// The rest of fcgimux for tests that look at the session's own output.
struct quiet_owner final : session_host {
  int resumed = 0;
  std::vector<std::shared_ptr<request>> ready;
  struct : request_home {
    void request_finished(request&, int) override {}
  } counts;
  std::shared_ptr<request> open_request(std::uint16_t id, bool keep) override {
    return std::make_shared<request>(std::weak_ptr<front_port>(), counts, id, keep);
  }
  void request_refused(std::uint16_t, proto::protocol_status) override {}
  bool taking_requests() const override { return true; }
  void request_unavailable(request&) override {}
  void request_ready(const std::shared_ptr<request>& r) override { ready.push_back(r); }
  void status_request(request&) override {}
  void request_gone(const std::shared_ptr<request>&) override {}
  void reading_resumed() override { ++resumed; }
};

}  // namespace

TEST_CASE("front session: PARAMS that are not whole name-value pairs close the connection before any queue") {
  std::string pair;
  proto::append_name_value(pair, "SCRIPT_NAME", "/x");
  for (const std::string& params : {pair + std::string("\xff\xff\xff\xff\x01", 5) + "abc", pair + "\x05"}) {
    auto d = make();
    std::string in;
    proto::append_begin_request(in, 1, 1, 0);
    proto::append_stream(in, proto::record_type::params, 1, params);
    proto::append_stream_end(in, proto::record_type::params, 1);
    proto::append_stream_end(in, proto::record_type::stdin_stream, 1);
    CHECK_FALSE(d.feed(in));
    CHECK(d.session().why().find("not whole name-value pairs") != std::string::npos);
    CHECK(d.queued() == 0);
    d.finish_all();
  }
}

TEST_CASE("front session: GET_VALUES names each known variable once, however often it is asked") {
  quiet_owner owner;
  front_limits limits;
  front_session s(owner, limits);
  std::string q, in;
  while (q.size() < 60000) proto::append_name_value(q, proto::var_mpxs_conns, "");
  proto::append_name_value(q, proto::var_max_reqs, "");
  proto::append_management(in, proto::record_type::get_values, q);
  REQUIRE(s.consume(in));
  proto::decoder dec;
  auto d = dec.next(s.output());
  REQUIRE(d.ev.type == proto::event_type::get_values_result);
  proto::name_value_reader rd(d.ev.data);
  proto::name_value nv;
  std::vector<std::string> names;
  while (rd.next(nv)) names.emplace_back(nv.name);
  CHECK(names == std::vector<std::string>{std::string(proto::var_mpxs_conns), std::string(proto::var_max_reqs)});
}

TEST_CASE("front session: reading stays paused until every reason to pause is gone") {
  quiet_owner owner;
  front_limits limits;
  front_session s(owner, limits);
  s.pause(front_session::pause_output);
  CHECK(s.paused());
  s.pause(front_session::pause_body);
  s.resume(front_session::pause_output);
  CHECK(s.paused());
  CHECK(owner.resumed == 0);
  s.resume(front_session::pause_body);
  CHECK_FALSE(s.paused());
  CHECK(owner.resumed == 1);
  s.resume(front_session::pause_body);  // not paused for it: nothing to tell
  CHECK(owner.resumed == 1);
}

TEST_CASE("front session: heads are counted from BEGIN_REQUEST to the end of their PARAMS") {
  quiet_owner owner;
  front_limits limits;
  front_session s(owner, limits);
  std::string in, params;
  proto::append_name_value(params, "SCRIPT_NAME", "/x");
  proto::append_begin_request(in, 1, 1, proto::flag_keep_conn);
  proto::append_stream(in, proto::record_type::params, 1, params);
  REQUIRE(s.consume(in));
  CHECK(s.heads_open() == 1);
  CHECK(s.oldest_head() <= clock_type::now());
  in.clear();
  proto::append_stream_end(in, proto::record_type::params, 1);
  REQUIRE(s.consume(in));
  CHECK(s.heads_open() == 0);
}

TEST_CASE("front session: STDIN no worker took is bounded by --max-reqs x --body-buffer when reading cannot pause") {
  front_limits l;
  l.body_buffer = 1024;
  l.max_reqs = 2;
  auto d = make(l);
  // Request 1 streams: at a worker, which took what came and waits for more.
  REQUIRE(d.feed(request_bytes(1, proto::flag_keep_conn, std::string(1024, 'a'), "/x", false)));
  d.dispatch();
  d.worker_finishes(end::answer, "");
  REQUIRE(d.at_worker() == 1);
  // Request 3 waits in the queue: pausing would starve request 1, so its body may not grow on.
  REQUIRE(d.feed(request_bytes(3, proto::flag_keep_conn, std::string(1024, 'b'), "/x", false)));
  CHECK_FALSE(d.session().paused());
  std::string more;
  proto::append_stream(more, proto::record_type::stdin_stream, 3, std::string(1500, 'b'));
  CHECK_FALSE(d.feed(more));
  CHECK(d.session().why().find("--max-reqs x --body-buffer") != std::string::npos);
  d.finish_all();
}
