// SPDX-License-Identifier: ISC
#pragma once
// Headless Chromium for the dashboard tests: load a page, let its script run for a budget of
// virtual time, and read the DOM it leaves.

#include "tests/support/run_program.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fcgimux::test {

/// The Chromium binary on PATH; throws when there is none.
std::string chromium_binary();
/// Arguments for a headless run with its own profile in `profile` and `budget_ms` of virtual time.
std::vector<std::string> chromium_args(const std::string& profile, int budget_ms);
/// Loads `url` in headless Chromium (a fresh profile) and returns the serialized DOM it dumps.
child_result chromium_dump_dom(const std::string& url, int budget_ms);
/// The text of the element with this id in a serialized DOM, if it has one.
std::optional<std::string> element_text(const std::string& dom, const std::string& id);

}  // namespace fcgimux::test
