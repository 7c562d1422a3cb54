// SPDX-License-Identifier: ISC
#include "src/app/config_reader.hpp"

#include <asio/post.hpp>

#include <exception>
#include <utility>

namespace fcgimux {

config_reader::~config_reader() {
  *alive_ = false;
  if (thread_.joinable()) thread_.join();
}

void config_reader::read(std::function<void(outcome)> done) {
  // The last read's thread has posted its outcome (busy_ is cleared only by it), so this join is short.
  if (thread_.joinable()) thread_.join();
  busy_ = true;
  thread_ = std::thread([this, done = std::move(done), alive = alive_]() mutable {
    // Only the source's own state is touched here: it reads files and the user database, and
    // config/ keeps no state between calls.
    auto got = std::make_shared<outcome>();
    try {
      got->read = source_();
    } catch (const std::exception& e) {
      got->error = e.what();
    }
    asio::post(io_, [this, got, done = std::move(done), alive = std::move(alive)]() mutable {
      if (!*alive) return;
      busy_ = false;
      done(std::move(*got));
    });
  });
}

}  // namespace fcgimux
