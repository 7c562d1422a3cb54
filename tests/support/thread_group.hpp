// SPDX-License-Identifier: ISC
#pragma once
// Threads a test starts, joined when it leaves their scope: a failed REQUIRE throws past the join
// written at the end of a test, and a joinable std::thread destroyed calls std::terminate.

#include <thread>
#include <utility>
#include <vector>

namespace fcgimux::test {

class thread_group {
 public:
  thread_group() = default;
  thread_group(const thread_group&) = delete;
  thread_group& operator=(const thread_group&) = delete;
  ~thread_group() { join(); }

  template <class F>
  void spawn(F&& f) {
    threads_.emplace_back(std::forward<F>(f));
  }
  /// Waits for every thread started so far.
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  std::vector<std::thread> threads_;
};

}  // namespace fcgimux::test
