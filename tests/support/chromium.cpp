// SPDX-License-Identifier: ISC
#include "tests/support/chromium.hpp"

#include "tests/support/temp_dir.hpp"

#include <regex>
#include <stdexcept>

namespace fcgimux::test {

std::string chromium_binary() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (auto p = find_program(name)) return *p;
  throw std::runtime_error("chromium not found: install it with scripts/deps.sh stats (Debian package chromium)");
}

std::vector<std::string> chromium_args(const std::string& profile, int budget_ms) {
  return {chromium_binary(),
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--user-data-dir=" + profile,
          "--virtual-time-budget=" + std::to_string(budget_ms)};
}

child_result chromium_dump_dom(const std::string& url, int budget_ms) {
  temp_dir profile("fcgimux-chromium");
  auto args = chromium_args(profile.path(), budget_ms);
  args.push_back("--dump-dom");
  args.push_back(url);
  return run_child(args, std::chrono::seconds(90));
}

std::optional<std::string> element_text(const std::string& dom, const std::string& id) {
  const std::regex re("id=\"" + id + "\"[^>]*>([^<]*)<");
  std::smatch m;
  if (!std::regex_search(dom, m, re)) return std::nullopt;
  return m[1].str();
}

}  // namespace fcgimux::test
