// SPDX-License-Identifier: ISC
#pragma once
// A stats_server on 127.0.0.1:0 running on its own thread, with fake pools the test controls: each
// is a pool_stats registered with the stats, whose view is a fake_pool. The views run on the server
// thread; the fake's state is atomic or set before start, counters change through on_server().

#include "src/admin/stats_server.hpp"

#include "fake_workers.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fcgimux::test {

/// A pool view whose numbers move on every call, so a reader can tell live data from stale.
struct fake_pool {
  std::atomic<bool> can_serve{true};
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<std::size_t> sizes_returned;  ///< pool.size of every snapshot handed out
  std::string uri_prefix = "/fake-live-";
  std::size_t base_size = 100;  ///< pool.size is base_size + the call's number
  int first_pid = 4242;         ///< the busy worker's pid; the idle one's is first_pid + 101

  pool_snapshot operator()(bool full) {
    const int n = ++calls;
    const std::size_t size = base_size + static_cast<std::size_t>(n);
    pool_snapshot p{.min = 2,
                    .max = 8,
                    .size = size,
                    .busy = 1,
                    .idle = size - 2,
                    .starting = 1,
                    .queue_length = static_cast<std::size_t>(n % 7),
                    .queue_limit = 1024,
                    .can_serve = can_serve,
                    .generation = 1,
                    .roll = {},
                    .workers = full ? std::vector{busy_worker(first_pid, static_cast<std::uint64_t>(n), 1.5 * n,
                                                              uri_prefix + std::to_string(n) + ".php", 3.25),
                                                  idle_worker(first_pid + 101, 7, 2.0)}
                                    : std::vector<worker_info>{},
                    .servers = {}};
    std::lock_guard lock(mutex);
    sizes_returned.push_back(p.size);
    return p;
  }
};

/// One registered pool: its stats (what fcgimux counts) and the fake that is its view.
struct fixture_pool {
  std::string name;
  fake_pool fake;
  pool_stats stats;
};

/// How to set the fixture up.
struct fixture_options {
  stats_server::limits limits{};
  std::vector<std::string> pools{"default"};
  bool history = false;  ///< serve /history (set_history before start)
};

/// The server, its io_context thread, and clean shutdown (stop() must end every session).
struct server_fixture {
  explicit server_fixture(stats_server::limits l = {}) : server_fixture(fixture_options{.limits = l}) {}
  explicit server_fixture(const fixture_options& o) {
    int pid = 4242;
    std::size_t base = 100;
    for (const std::string& name : o.pools) {
      fixture_pool& p = pools_.emplace_back();  // a deque: the stats keep a pointer to p.stats
      p.name = name;
      p.fake.first_pid = pid;
      p.fake.base_size = base;
      p.stats.view = [&p](bool full) { return p.fake(full); };
      s.add_pool(name, p.stats);
      pid += 1000;
      base += 1000;
    }
    if (o.history) {
      history = std::make_unique<stats_history>(s);  // after every pool is registered
      server.set_history(*history);
    }
    server.set_limits(o.limits);
    server.start();
    port = server.local_endpoint().port();
    thread = std::thread([this] { io.run(); });
  }
  ~server_fixture() { shutdown(); }

  /// The fake behind the i-th pool (the first pool's busy worker is pid 4242, the next 5242, ...).
  fake_pool& pool(std::size_t i = 0) { return pools_.at(i).fake; }
  /// The i-th pool's counters and histograms; change them through on_server().
  pool_stats& ps(std::size_t i = 0) { return pools_.at(i).stats; }

  /// Runs fn on the server thread and waits: how a test changes what the server reads.
  void on_server(const std::function<void()>& fn) {
    std::promise<void> done;
    asio::post(io, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  /// Stops the server and waits until the io_context has nothing left to do.
  void shutdown() {
    if (!thread.joinable()) return;
    asio::post(io, [this] { server.stop(); });
    thread.join();
  }

  asio::io_context io;
  stats s;
  std::deque<fixture_pool> pools_;  // before the server: destroyed after it
  std::unique_ptr<stats_history> history;
  stats_server server{io, s, {asio::ip::make_address("127.0.0.1"), 0}};
  std::uint16_t port = 0;
  std::thread thread;
};

}  // namespace fcgimux::test
