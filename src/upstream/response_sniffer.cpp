// SPDX-License-Identifier: ISC
#include "src/upstream/response_sniffer.hpp"

#include <algorithm>
#include <cctype>

namespace fcgimux {
namespace {

bool starts_with_nocase(std::string_view line, std::string_view prefix) {
  if (line.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != prefix[i]) return false;
  return true;
}

// Where the blank line that ends the head starts, searching from `from`; npos if none yet.
std::size_t head_end(std::string_view s, std::size_t from) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (s[i] != '\n') continue;
    if (i + 1 < s.size() && s[i + 1] == '\n') return i;
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') return i;
  }
  return std::string_view::npos;
}

}  // namespace

head_verdict response_sniffer::feed(std::string_view data) {
  if (verdict_ != head_verdict::incomplete || data.empty()) return verdict_;
  // Resume the search just before the new bytes: the blank line may straddle two records.
  std::size_t from = held_.size() >= 3 ? held_.size() - 3 : 0;
  std::string_view all = data;
  if (!held_.empty()) {
    held_.append(data);  // bounded: held_ never grows past max_head before this append
    all = held_;
  }
  std::size_t end = head_end(all, from);
  if (end != std::string_view::npos && end <= max_head) return verdict_ = parse_head(all.substr(0, end));
  if (all.size() > max_head) return verdict_ = head_verdict::too_large;
  if (held_.empty()) held_.assign(data);
  return verdict_;
}

head_verdict response_sniffer::parse_head(std::string_view head) {
  bool has_location = false;
  bool has_status = false;
  while (!head.empty()) {
    std::size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (starts_with_nocase(line, "status:")) {
      std::string_view v = line.substr(7);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      int s = 0;
      std::size_t i = 0;
      for (; i < v.size() && i < 3 && std::isdigit(static_cast<unsigned char>(v[i])); ++i) s = s * 10 + (v[i] - '0');
      // nginx refuses an answer whose Status is not three digits: so does fcgimux, before
      // relaying a byte of it.
      if (i != 3 || s < 100) return head_verdict::bad_status;
      status_ = s;
      has_status = true;
    } else if (starts_with_nocase(line, "location:")) {
      has_location = true;
    }
    if (nl == std::string_view::npos) break;
    head.remove_prefix(nl + 1);
  }
  if (!has_status) status_ = has_location ? 302 : 200;
  return head_verdict::ok;
}

}  // namespace fcgimux
