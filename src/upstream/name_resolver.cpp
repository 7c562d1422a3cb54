// SPDX-License-Identifier: ISC
#include "src/upstream/name_resolver.hpp"

#include <asio/post.hpp>

namespace fcgimux {

// Shared by the handlers of one lookup: a handler may run after its resolver was cancelled or
// destroyed (Asio checks for cancellation only before getaddrinfo starts), and then finds
// `given_up` set.
struct name_resolver::batch {
  name_answers answers;
  std::size_t pending = 0;
  bool given_up = false;
  std::function<void(name_answers)> done;
  name_resolver* owner = nullptr;
};

void name_resolver::lookup(const std::vector<std::string>& hosts, std::function<void(name_answers)> done) {
  cancel();
  auto b = std::make_shared<batch>();
  b->done = std::move(done);
  b->owner = this;
  b->pending = hosts.size();
  current_ = b;
  if (hosts.empty()) {
    // Still from the loop, as every other answer: the caller's state is as it left it.
    asio::post(resolver_.get_executor(), [b] {
      if (b->given_up) return;
      b->owner->current_.reset();
      b->done({});
    });
    return;
  }
  for (const std::string& host : hosts) {
    // No flags: the hints of resolve_now(), so that a start and a reload see one name alike.
    resolver_.async_resolve(host, "", asio::ip::resolver_base::flags(),
                            [b, host](const std::error_code& ec, const asio::ip::tcp::resolver::results_type& found) {
                              if (b->given_up) return;
                              name_answer& answer = b->answers[host];
                              if (ec)
                                answer.error = ec.message();
                              else
                                for (const auto& entry : found) {
                                  const auto ep = entry.endpoint();
                                  add_address(answer, ep.data(), static_cast<socklen_t>(ep.size()));
                                }
                              if (!ec && answer.addresses.empty()) answer.error = "no address";
                              if (--b->pending > 0) return;
                              b->owner->current_.reset();
                              auto done = std::move(b->done);
                              done(std::move(b->answers));
                            });
  }
}

void name_resolver::cancel() noexcept {
  if (!current_) return;
  current_->given_up = true;
  current_.reset();
  resolver_.cancel();  // lookups not begun yet end at once
}

}  // namespace fcgimux
