#pragma once
// Reads the HTTP status from the head of a CGI response (the first STDOUT bytes), for the stats
// and the slow log. It looks at no more than the head, so relaying stays a plain copy.

#include <string>
#include <string_view>

namespace fcgimux {

class response_sniffer {
 public:
  /// Feeds STDOUT bytes; cheap once the head has been seen.
  void feed(std::string_view data);
  /// The status: from "Status:", 302 for a "Location:" without one, else 200; 0 before any output.
  int status() const noexcept { return status_; }
  bool head_complete() const noexcept { return done_; }

 private:
  void parse_head(std::string_view head);

  std::string head_;
  int status_ = 0;
  bool done_ = false;
};

}  // namespace fcgimux
