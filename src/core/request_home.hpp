// SPDX-License-Identifier: ISC
#pragma once
// Who counts a request's end (its pool): the lifecycle tells it exactly once. No Asio here, so
// that the sans-I/O parts and their fuzzers can use it.

namespace fcgimux {

struct request;

/// Whoever counts a request's end: its pool. Told exactly once per request.
class request_home {
 public:
  /// `http_status` 0: the answer reached nobody (counted as aborted, not as a response).
  virtual void request_finished(request& r, int http_status) = 0;

 protected:
  ~request_home() = default;
};

}  // namespace fcgimux
