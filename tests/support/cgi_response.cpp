// SPDX-License-Identifier: ISC
#include "tests/support/cgi_response.hpp"

#include <cctype>
#include <cstdlib>

namespace fcgimux::test {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string cgi_response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return {};
}

cgi_response parse_cgi_response(std::string_view out) {
  cgi_response r;
  std::size_t pos = 0;
  for (;;) {
    auto eol = out.find('\n', pos);
    if (eol == std::string_view::npos) return r;
    std::string_view line = out.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return r;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  r.valid = true;
  r.body = std::string(out.substr(pos));
  std::string status = r.header("Status");
  if (!status.empty()) r.status = std::atoi(status.c_str());
  return r;
}

}  // namespace fcgimux::test
