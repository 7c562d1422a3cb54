// SPDX-License-Identifier: ISC
#include "demo_options.hpp"

#include <charconv>
#include <string_view>

namespace fcgimux::demo {

const char* usage_text() noexcept {
  return "usage: fcgimux-demo [--listen HOST:PORT | --listen unix:PATH] [--kcgi] [--max-requests N]\n"
         "Serves FastCGI requests on the listening socket at fd 0 (or on --listen).\n"
         "Query keys: sleep_ms=N bytes=N status=NNN stderr=TEXT crash=1 hang=1 crash_after=N\n"
         "(head and N body bytes, then exit 3); path /echo echoes STDIN.\n";
}

parse_result parse_options(int argc, char** argv) {
  parse_result r;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (i + 1 >= argc) {
        r.error = std::string(name) + " needs a value";
        return nullptr;
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      r.help = true;
    } else if (arg == "--kcgi") {
      r.options.kcgi = true;
    } else if (arg == "--listen") {
      const char* v = value(arg);
      if (v == nullptr) return r;
      r.options.listen = v;
    } else if (arg == "--max-requests") {
      const char* v = value(arg);
      if (v == nullptr) return r;
      std::string_view s = v;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), r.options.max_requests);
      if (ec != std::errc() || end != s.data() + s.size()) {
        r.error = "--max-requests: not a number: " + std::string(s);
        return r;
      }
    } else {
      r.error = "unknown argument: " + std::string(arg);
      return r;
    }
  }
  return r;
}

}  // namespace fcgimux::demo
