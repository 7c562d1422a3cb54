// SPDX-License-Identifier: ISC
#pragma once
// Reads and checks the head of a CGI response (the first STDOUT bytes) before any of it goes to
// the front: its status for the stats and the slow log, and whether it is a head at all. A head
// that arrives whole in one piece (nearly always) is parsed where it lies; only a head split over
// several records is kept here until it is complete, bounded by max_head.

#include <cstddef>
#include <string>
#include <string_view>

namespace fcgimux {

/// What the head of a response turned out to be.
enum class head_verdict : unsigned char {
  incomplete,  ///< no blank line yet: keep feeding
  ok,          ///< a head with a valid (or no) Status line
  too_large,   ///< no end of the head within max_head bytes
  bad_status,  ///< a Status line that is not a three-digit code from 100 to 999
};

class response_sniffer {
 public:
  /// Larger than any header block a web server accepts (nginx's default is 4 or 8 KiB).
  static constexpr std::size_t max_head = 64 * 1024;

  /// Feeds STDOUT bytes. While the verdict is `incomplete` they are kept (take_held()).
  head_verdict feed(std::string_view data);
  /// The bytes kept while the head was incomplete, now to be relayed; empties them.
  std::string take_held() noexcept { return std::move(held_); }
  /// The status: from "Status:", 302 for a "Location:" without one, else 200; 0 before a whole head.
  int status() const noexcept { return status_; }
  head_verdict verdict() const noexcept { return verdict_; }
  bool head_complete() const noexcept { return verdict_ != head_verdict::incomplete; }

 private:
  head_verdict parse_head(std::string_view head);

  std::string held_;
  int status_ = 0;
  head_verdict verdict_ = head_verdict::incomplete;
};

}  // namespace fcgimux
