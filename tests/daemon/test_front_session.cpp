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
