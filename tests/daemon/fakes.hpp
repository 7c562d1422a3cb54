// SPDX-License-Identifier: ISC
#pragma once
// Fakes behind the narrow interfaces of src/core and src/pool, for unit tests without sockets or
// processes: a front that records what it was sent, an owner that counts ends, and a set of
// members the test hands out by hand.

#include "src/core/front_port.hpp"
#include "src/core/request.hpp"
#include "src/pool/scheduler.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fcgimux::test {

/// A front connection that keeps what fcgimux wrote to it, per request id.
class fake_front final : public front_port {
 public:
  struct ended {
    std::uint16_t id;
    std::uint32_t app_status;
  };
  std::map<std::uint16_t, std::string> out;  ///< STDOUT per front id
  std::vector<ended> ends;
  int abandons = 0;
  bool open = true;

  bool is_open() const noexcept override { return open; }
  void send_stream(request& r, proto::record_type type, std::string_view data) override {
    if (type == proto::record_type::stdout_stream) out[r.front_id] += data;
    r.output_sent = true;
  }
  void flush() override {}
  void end_request(request& r, std::uint32_t app_status, proto::protocol_status) override {
    ends.push_back({r.front_id, app_status});
  }
  void abandon(request&) override { ++abandons; }
  bool congested() const noexcept override { return false; }
  asio::awaitable<void> wait_writable() override { co_return; }
  void wake_writers() override {}
  void body_consumed(request&) override {}
};

/// Counts the ends of requests, with their HTTP status.
class fake_owner final : public request_home {
 public:
  std::vector<int> statuses;
  void request_finished(request&, int http_status) override { statuses.push_back(http_status); }
};

/// Members the test makes idle by hand; serve() records the pairings (and plays the exchange's
/// first step: the request is at its member).
class fake_members final : public member_source {
 public:
  std::vector<std::shared_ptr<pool_member>> idle;
  std::vector<std::pair<std::shared_ptr<pool_member>, std::shared_ptr<request>>> served;
  int grows = 0;
  bool failing = false;
  std::size_t live = 1;

  std::shared_ptr<pool_member> take_idle() override {
    if (idle.empty()) return nullptr;
    auto m = idle.back();
    idle.pop_back();
    m->state = member_state::busy;
    return m;
  }
  void grow() override { ++grows; }
  bool cannot_serve() const noexcept override { return failing; }
  pool_counts counts() const noexcept override {
    return {.live = live, .starting = 0, .idle = idle.size(), .queued = 0};
  }
  void serve(std::shared_ptr<pool_member> m, std::shared_ptr<request> r) override {
    r->state = request_state::at_worker;
    m->current = r;
    served.emplace_back(std::move(m), std::move(r));
  }
  std::shared_ptr<pool_member> add_idle(int pid) {
    auto m = std::make_shared<pool_member>();
    m->pid = pid;
    m->state = member_state::idle;
    idle.push_back(m);
    return m;
  }
};

}  // namespace fcgimux::test
