#pragma once
// A stats_server on 127.0.0.1:0 running on its own thread, with a fake pool_view the test controls.
// pool_view runs on the server thread; the fake's state is atomic or set before start.

#include "src/admin/stats_server.hpp"

#include "fake_workers.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace fcgimux::test {

/// A pool_view whose numbers move on every call, so a reader can tell live data from stale.
struct fake_pool {
  std::atomic<bool> can_serve{true};
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<std::size_t> sizes_returned;  ///< pool.size of every snapshot handed out
  std::string uri_prefix = "/fake-live-";

  pool_snapshot operator()(bool full) {
    const int n = ++calls;
    const std::size_t size = 100 + static_cast<std::size_t>(n);
    pool_snapshot p{.min = 2,
                    .max = 8,
                    .size = size,
                    .busy = 1,
                    .idle = size - 2,
                    .starting = 1,
                    .queue_length = static_cast<std::size_t>(n % 7),
                    .queue_limit = 1024,
                    .can_serve = can_serve,
                    .workers = full ? std::vector{busy_worker(4242, static_cast<std::uint64_t>(n), 1.5 * n,
                                                              uri_prefix + std::to_string(n) + ".php", 3.25),
                                                  idle_worker(4343, 7, 2.0)}
                                    : std::vector<worker_info>{}};
    std::lock_guard lock(mutex);
    sizes_returned.push_back(p.size);
    return p;
  }
};

/// The server, its io_context thread, and clean shutdown (stop() must end every session).
struct server_fixture {
  explicit server_fixture(stats_server::limits l = {}) {
    s.pool_view = [this](bool full) { return pool(full); };
    server.set_limits(l);
    server.start();
    port = server.local_endpoint().port();
    thread = std::thread([this] { io.run(); });
  }
  ~server_fixture() { shutdown(); }

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
  fake_pool pool;
  stats_server server{io, s, {asio::ip::make_address("127.0.0.1"), 0}};
  std::uint16_t port = 0;
  std::thread thread;
};

}  // namespace fcgimux::test
