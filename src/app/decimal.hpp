// SPDX-License-Identifier: ISC
#pragma once
// Numbers that reach fcgimux as text from its environment: $LISTEN_PID, $LISTEN_FDS (socket
// activation) and the descriptors a binary upgrade names.

#include <string_view>

namespace fcgimux {

/// A non-negative decimal number (a pid, a count, a descriptor) from an environment variable's
/// text; -1 for an empty text or anything else.
long decimal_of(std::string_view text);

}  // namespace fcgimux
