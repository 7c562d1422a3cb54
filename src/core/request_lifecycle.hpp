// SPDX-License-Identifier: ISC
#pragma once
// The one place that answers and ends a request: whoever owns a request (its front session, the
// scheduler, an exchange) ends it through these, exactly once.

#include "src/core/request.hpp"

#include <cstdint>
#include <string_view>

namespace fcgimux {

/// Answers `r` with a response of fcgimux's own if its front still waits, and ends it.
void respond(request& r, int status, std::string_view content_type, std::string_view body);
/// An HTTP error of fcgimux's own: a short text body; 503 adds Retry-After.
void respond_error(request& r, int status, std::string_view message);
/// Ends `r`: END_REQUEST to its front if it still waits; its home (the pool) counts it with `http_status`.
void finish_request(request& r, std::uint32_t app_status, int http_status);

}  // namespace fcgimux
