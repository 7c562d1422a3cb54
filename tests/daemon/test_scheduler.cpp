// SPDX-License-Identifier: ISC
// The pool's queue (src/pool/scheduler) behind its narrow interfaces: fake members, a fake front,
// a fake owner. No socket, no process; the io_context only runs the queue timer.

#include "fakes.hpp"
#include "src/pool/scheduler.hpp"

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace fcgimux;
using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

struct queue_fixture {
  asio::io_context io;
  pool_config cfg;
  pool_stats st;
  fake_members members;
  std::shared_ptr<fake_front> front = std::make_shared<fake_front>();
  fake_owner owner;
  std::unique_ptr<scheduler> sched;
  std::uint16_t next_id = 1;

  explicit queue_fixture(std::size_t queue_limit = 1024, double queue_timeout = 0) {
    cfg.queue_limit = queue_limit;
    cfg.queue_timeout = seconds(queue_timeout);
    cfg.max_workers = 1;
    sched = std::make_unique<scheduler>(io, cfg, st, members);
  }
  std::shared_ptr<request> make() {
    return std::make_shared<request>(std::weak_ptr<front_port>(front), owner, next_id++, false);
  }
  std::shared_ptr<request> submit() {
    auto r = make();
    sched->submit(r);
    return r;
  }
};

}  // namespace

TEST_CASE("scheduler: an idle member takes a request at once") {
  queue_fixture q;
  auto m = q.members.add_idle(11);
  auto r = q.submit();
  REQUIRE(q.members.served.size() == 1);
  CHECK(q.members.served[0].first == m);
  CHECK(q.members.served[0].second == r);
  CHECK(r->state == request_state::at_worker);
  CHECK(q.sched->length() == 0);
  CHECK(q.st.queue_latency.count() == 1);
}

TEST_CASE("scheduler: without an idle member a request waits, FIFO, and the pool is asked to grow") {
  queue_fixture q;
  auto a = q.submit();
  auto b = q.submit();
  CHECK(q.sched->length() == 2);
  CHECK(a->state == request_state::queued);
  CHECK(q.members.grows >= 2);
  CHECK(q.st.counts.max_workers_reached == 2);  // live (1) is at max-workers (1)
  CHECK(q.st.counts.queue_peak == 2);
  q.members.add_idle(1);
  q.sched->dispatch();
  REQUIRE(q.members.served.size() == 1);
  CHECK(q.members.served[0].second == a);
  q.members.add_idle(2);
  q.sched->dispatch();
  CHECK(q.members.served[1].second == b);
  CHECK(q.owner.statuses.empty());
}

TEST_CASE("scheduler: a resubmitted request goes to the head of the queue") {
  queue_fixture q;
  auto first = q.submit();
  q.members.add_idle(1);
  q.sched->dispatch();
  auto waiting = q.submit();
  // `first`'s member failed before it took the request.
  q.sched->resubmit(first);
  q.members.add_idle(2);
  q.sched->dispatch();
  CHECK(q.members.served.back().second == first);
  CHECK(waiting->state == request_state::queued);
}

TEST_CASE("scheduler: past --queue-limit a request is answered 503 and ended once") {
  queue_fixture q(2);
  q.submit();
  q.submit();
  auto refused = q.submit();
  CHECK(q.sched->length() == 2);
  CHECK(refused->state == request_state::done);
  CHECK(q.st.counts.requests_rejected == 1);
  REQUIRE(q.owner.statuses == std::vector<int>{503});
  CHECK(q.front->out[refused->front_id].starts_with("Status: 503 Service Unavailable\r\n"));
  CHECK(q.front->out[refused->front_id].find("queue full") != std::string::npos);
  REQUIRE(q.front->ends.size() == 1);
  CHECK(q.front->ends[0].id == refused->front_id);
}

TEST_CASE("scheduler: when no member can start, requests are answered 503 at once") {
  queue_fixture q;
  q.members.failing = true;
  auto r = q.submit();
  CHECK(r->state == request_state::done);
  CHECK(q.front->out[r->front_id].find("no worker can start") != std::string::npos);
  CHECK(q.sched->length() == 0);
}

TEST_CASE("scheduler: a cancelled request leaves the queue, fail_all answers the rest") {
  queue_fixture q;
  auto a = q.submit();
  auto b = q.submit();
  auto c = q.submit();
  q.sched->cancel(*b);
  CHECK(q.sched->length() == 2);
  q.sched->fail_all("stopping");
  CHECK(q.sched->length() == 0);
  CHECK(a->state == request_state::done);
  CHECK(c->state == request_state::done);
  CHECK(b->state == request_state::queued);  // its front's side ends it (request_gone), not the queue
  CHECK(q.owner.statuses == std::vector<int>{503, 503});
  CHECK(q.st.counts.requests_rejected == 2);
}

TEST_CASE("scheduler: --queue-timeout answers a request that waited too long, and only that one") {
  // Real timers on a machine that may be busy: wait for each expiry rather than for a fixed time,
  // and bound only what cannot vary (a timer never fires early). The 0.6 s between the two requests
  // is what a stall of the loop would need to exceed to expire both at once.
  queue_fixture q(1024, 1.0);
  const auto run_until = [&](const std::shared_ptr<request>& r) {
    const auto deadline = clock_type::now() + 20s;
    while (r->state != request_state::done && clock_type::now() < deadline) q.io.run_one_for(100ms);
  };
  auto old = q.submit();
  q.io.run_for(600ms);
  auto young = q.submit();
  run_until(old);
  REQUIRE(old->state == request_state::done);
  CHECK(clock_type::now() - old->queued_at >= 1s);
  CHECK(young->state == request_state::queued);
  CHECK(q.st.counts.requests_timed_out == 1);
  CHECK(q.front->out[old->front_id].find("waited too long") != std::string::npos);
  run_until(young);
  REQUIRE(young->state == request_state::done);
  CHECK(clock_type::now() - young->queued_at >= 1s);
  CHECK(q.st.counts.requests_timed_out == 2);
}
