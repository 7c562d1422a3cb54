// SPDX-License-Identifier: ISC
#pragma once
// Host names looked up off the event loop, for a reload (the listeners', the stats', the
// servers' names) and a server set's re-resolution. Asio's resolver runs each getaddrinfo on a
// thread of its own (one per io_context, started at the first lookup) and hands the answer back
// to the loop; a lookup under way cannot be stopped, so cancel() and the destructor only make
// sure its answer is dropped: nothing is called back into an owner that is gone.

#include "src/config/names.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fcgimux {

class name_resolver {
 public:
  explicit name_resolver(asio::io_context& io) : resolver_(io) {}
  name_resolver(const name_resolver&) = delete;
  name_resolver& operator=(const name_resolver&) = delete;
  ~name_resolver() { cancel(); }

  /// Looks every one of `hosts` up; `done` gets all their answers at once, on the loop. A lookup
  /// still under way is given up (its `done` is never called).
  void lookup(const std::vector<std::string>& hosts, std::function<void(name_answers)> done);
  /// Gives up the lookup under way, if any.
  void cancel() noexcept;
  /// A lookup is under way.
  bool busy() const noexcept { return current_ != nullptr; }

 private:
  struct batch;
  asio::ip::tcp::resolver resolver_;
  std::shared_ptr<batch> current_;
};

}  // namespace fcgimux
