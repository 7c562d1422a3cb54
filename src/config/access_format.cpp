// SPDX-License-Identifier: ISC
#include "src/config/access_format.hpp"

#include "src/config/config.hpp"

#include <fmt/core.h>

namespace fcgimux {
namespace {

using token_kind = access_token::kind;

access_token::unit duration_unit(const std::string& arg) {
  // php-fpm spells them "mili" and "miliseconds"; both spellings are accepted.
  if (arg.empty() || arg == "seconds") return access_token::unit::seconds;
  if (arg == "milli" || arg == "mili" || arg == "milliseconds" || arg == "miliseconds")
    return access_token::unit::milli;
  if (arg == "micro" || arg == "microseconds") return access_token::unit::micro;
  throw config_error(fmt::format("access-format: %{{{}}}d: the unit is seconds, milli or micro", arg));
}

}  // namespace

std::vector<access_token> parse_access_format(std::string_view f) {
  std::vector<access_token> out;
  auto text = [&](std::string_view s) {
    if (out.empty() || out.back().k != token_kind::text) out.push_back({token_kind::text, {}, {}});
    out.back().arg.append(s);
  };
  for (std::size_t i = 0; i < f.size();) {
    auto pct = f.find('%', i);
    if (pct == std::string_view::npos) {
      text(f.substr(i));
      break;
    }
    text(f.substr(i, pct - i));
    i = pct + 1;
    if (i >= f.size()) throw config_error("access-format: a lone % at the end (%% writes one)");
    std::string arg;
    bool braces = false;
    if (f[i] == '{') {
      auto close = f.find('}', i);
      if (close == std::string_view::npos) throw config_error("access-format: a %{ without its }");
      arg = std::string(f.substr(i + 1, close - i - 1));
      braces = true;
      i = close + 1;
      if (i >= f.size()) throw config_error(fmt::format("access-format: %{{{}}} names no token", arg));
    }
    const char c = f[i++];
    access_token t;
    switch (c) {
      case '%': t.k = token_kind::text; break;
      case 't': t.k = token_kind::accept_time; break;
      case 'T': t.k = token_kind::end_time; break;
      case 'm': t.k = token_kind::method; break;
      case 'r': t.k = token_kind::uri; break;
      case 'q': t.k = token_kind::query; break;
      case 'Q': t.k = token_kind::query_mark; break;
      case 's': t.k = token_kind::status; break;
      case 'd':
        t.k = token_kind::duration;
        t.u = duration_unit(arg);
        break;
      case 'p': t.k = token_kind::worker_pid; break;
      case 'P': t.k = token_kind::fcgimux_pid; break;
      case 'n': t.k = token_kind::pool; break;
      case 'R': t.k = token_kind::remote_addr; break;
      case 'u': t.k = token_kind::remote_user; break;
      case 'l': t.k = token_kind::content_length; break;
      case 'f': t.k = token_kind::script_filename; break;
      case 'e':
        if (arg.empty()) throw config_error("access-format: %e needs a parameter's name, as %{HTTP_HOST}e");
        t.k = token_kind::param;
        break;
      case 'C':
      case 'M':
      case 'o':
        throw config_error(fmt::format(
            "access-format: %{} is php-fpm's measure of its own process; fcgimux's workers are other programs", c));
      default: throw config_error(fmt::format("access-format: unknown token %{}", c));
    }
    const bool takes_arg = t.k == token_kind::accept_time || t.k == token_kind::end_time ||
                           t.k == token_kind::duration || t.k == token_kind::param;
    if (braces && !takes_arg) throw config_error(fmt::format("access-format: %{} takes no {{...}}", c));
    if (c == '%') {
      text("%");
      continue;
    }
    if (t.k != token_kind::duration) t.arg = std::move(arg);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace fcgimux
