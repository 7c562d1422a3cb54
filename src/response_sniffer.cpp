#include "src/response_sniffer.hpp"

#include <algorithm>
#include <cctype>

namespace fcgimux {
namespace {

// A head larger than this is not a CGI header block we can learn anything from.
constexpr std::size_t max_head = 8192;

bool starts_with_nocase(std::string_view line, std::string_view prefix) {
  if (line.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != prefix[i]) return false;
  return true;
}

}  // namespace

void response_sniffer::feed(std::string_view data) {
  if (done_ || data.empty()) return;
  if (status_ == 0) status_ = 200;
  std::size_t take = std::min(data.size(), max_head - head_.size());
  head_.append(data.substr(0, take));
  std::size_t end = head_.find("\r\n\r\n");
  if (end == std::string::npos) end = head_.find("\n\n");
  if (end != std::string::npos || head_.size() >= max_head) {
    parse_head(std::string_view(head_).substr(0, end == std::string::npos ? head_.size() : end));
    done_ = true;
    head_.clear();
    head_.shrink_to_fit();
  }
}

void response_sniffer::parse_head(std::string_view head) {
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
      if (i == 3 && s >= 100) {
        status_ = s;
        has_status = true;
      }
    } else if (starts_with_nocase(line, "location:")) {
      has_location = true;
    }
    if (nl == std::string_view::npos) break;
    head.remove_prefix(nl + 1);
  }
  if (!has_status && has_location) status_ = 302;
}

}  // namespace fcgimux
