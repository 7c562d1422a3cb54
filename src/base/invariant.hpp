// SPDX-License-Identifier: ISC
#pragma once
// Checks of what must always hold (one owner per request, counts that never go negative). A
// violated one means fcgimux's own state is wrong: it logs where and aborts, in every build,
// rather than answer a request twice or to the wrong front.

#include "src/base/log.hpp"

#include <cstdlib>

/// Aborts with a log line naming `what` unless `cond` holds.
#define FCGIMUX_INVARIANT(cond, what)                                                                 \
  do {                                                                                                \
    if (!(cond)) [[unlikely]] {                                                                       \
      ::fcgimux::log::error("invariant violated at {}:{}: {} ({})", __FILE__, __LINE__, what, #cond); \
      ::fcgimux::log::shutdown(); /* the line is queued for the writer thread: write it first */     \
      std::abort();                                                                                   \
    }                                                                                                 \
  } while (0)
