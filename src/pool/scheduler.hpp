#pragma once
// The queue between front and workers: one FIFO of requests waiting for a worker. It hands the
// oldest waiting request to the next idle worker, refuses requests past --queue-limit, and
// answers those that waited longer than --queue-timeout.

#include <asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <string_view>

namespace fcgimux {

class server;
struct request;

class scheduler {
 public:
  explicit scheduler(server& srv);

  /// A request whose PARAMS (and buffered body) are complete takes its place in the queue.
  void submit(const std::shared_ptr<request>& r);
  /// A request whose first worker failed before answering: back to the head of the queue.
  void resubmit(const std::shared_ptr<request>& r);
  /// The front gave up on a queued request: it leaves the queue at once.
  void cancel(request& r);
  /// Pairs waiting requests with idle workers; grows the pool for those still waiting.
  void dispatch();
  /// Answers every waiting request with 503 (no worker can run); `why` goes to the log.
  void fail_all(std::string_view why);
  /// Stops the queue timer (shutdown).
  void stop();

  std::size_t length() const noexcept { return queue_.size(); }

 private:
  void enqueue(const std::shared_ptr<request>& r, bool at_front);
  void arm_timeout();
  void expire();

  server& srv_;
  std::deque<std::shared_ptr<request>> queue_;
  asio::steady_timer timeout_timer_;
  bool timer_armed_ = false;
};

}  // namespace fcgimux
