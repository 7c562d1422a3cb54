// SPDX-License-Identifier: ISC
#include "proto/name_value.hpp"

namespace fcgimux::proto {
namespace {

constexpr std::size_t max_length = 0x7fffffff;

// A 4-byte length is recognised by its high bit alone, so small lengths written in 4 bytes
// (some encoders always use the long form) decode too.
bool read_length(std::string_view& rest, std::size_t& len) noexcept {
  if (rest.empty()) return false;
  const auto* u = reinterpret_cast<const unsigned char*>(rest.data());
  if ((u[0] & 0x80) == 0) {
    len = u[0];
    rest.remove_prefix(1);
    return true;
  }
  if (rest.size() < 4) return false;
  len = (static_cast<std::size_t>(u[0] & 0x7f) << 24) | (static_cast<std::size_t>(u[1]) << 16) |
        (static_cast<std::size_t>(u[2]) << 8) | static_cast<std::size_t>(u[3]);
  rest.remove_prefix(4);
  return true;
}

void append_length(std::string& out, std::size_t len) {
  if (len < 128) {
    out.push_back(static_cast<char>(len));
    return;
  }
  const char b[4] = {static_cast<char>(((len >> 24) & 0x7f) | 0x80), static_cast<char>((len >> 16) & 0xff),
                     static_cast<char>((len >> 8) & 0xff), static_cast<char>(len & 0xff)};
  out.append(b, 4);
}

}  // namespace

bool name_value_reader::next(name_value& out) noexcept {
  if (error_ || rest_.empty()) return false;
  std::string_view r = rest_;
  std::size_t name_len = 0;
  std::size_t value_len = 0;
  if (!read_length(r, name_len) || !read_length(r, value_len) || name_len > r.size() ||
      value_len > r.size() - name_len) {
    error_ = make_error_code(errc::name_value_truncated);
    return false;
  }
  out.name = r.substr(0, name_len);
  out.value = r.substr(name_len, value_len);
  rest_ = r.substr(name_len + value_len);
  return true;
}

std::error_code validate_name_values(std::string_view block) noexcept {
  name_value_reader reader(block);
  name_value nv;
  while (reader.next(nv)) {
  }
  return reader.error();
}

lookup_result find_name_value(std::string_view block, std::string_view name) noexcept {
  name_value_reader reader(block);
  name_value nv;
  while (reader.next(nv)) {
    if (nv.name == name) return {true, nv.value};
  }
  return {};
}

std::size_t encoded_size(std::string_view name, std::string_view value) noexcept {
  return (name.size() < 128 ? 1 : 4) + (value.size() < 128 ? 1 : 4) + name.size() + value.size();
}

void append_name_value(std::string& out, std::string_view name, std::string_view value) {
  // Longer strings cannot be represented; cutting them keeps the block well-formed.
  if (name.size() > max_length) name = name.substr(0, max_length);
  if (value.size() > max_length) value = value.substr(0, max_length);
  out.reserve(out.size() + encoded_size(name, value));
  append_length(out, name.size());
  append_length(out, value.size());
  out.append(name);
  out.append(value);
}

}  // namespace fcgimux::proto
