// SPDX-License-Identifier: ISC
#include "src/config/accounts.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace fcgimux::config_detail {
namespace {

std::optional<unsigned long> number(const std::string& s) {
  unsigned long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v >= 0xffffffffUL) return std::nullopt;
  return v;
}

// getpwnam_r and friends with a buffer that grows until the entry fits.
template <typename Entry, typename Key, typename Lookup>
bool lookup(Lookup fn, Key key, Entry& out, std::vector<char>& buf) {
  buf.resize(1024);
  for (;;) {
    Entry* found = nullptr;
    int rc = fn(key, &out, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    return rc == 0 && found;
  }
}

std::optional<user_entry> by_uid(uid_t uid) {
  passwd pw{};
  std::vector<char> buf;
  if (!lookup(::getpwuid_r, uid, pw, buf)) return std::nullopt;
  return user_entry{pw.pw_uid, pw.pw_gid, pw.pw_name, true};
}

std::optional<group_entry> by_gid(gid_t gid) {
  group gr{};
  std::vector<char> buf;
  if (!lookup(::getgrgid_r, gid, gr, buf)) return std::nullopt;
  return group_entry{gr.gr_gid, gr.gr_name};
}

}  // namespace

std::optional<user_entry> find_user(const std::string& name_or_id) {
  if (auto n = number(name_or_id)) {
    if (auto e = by_uid(static_cast<uid_t>(*n))) return e;
    return user_entry{static_cast<uid_t>(*n), 0, {}, false};
  }
  passwd pw{};
  std::vector<char> buf;
  if (!lookup(::getpwnam_r, name_or_id.c_str(), pw, buf)) return std::nullopt;
  return user_entry{pw.pw_uid, pw.pw_gid, pw.pw_name, true};
}

std::optional<group_entry> find_group(const std::string& name_or_id) {
  if (auto n = number(name_or_id)) {
    if (auto e = by_gid(static_cast<gid_t>(*n))) return e;
    return group_entry{static_cast<gid_t>(*n), {}};
  }
  group gr{};
  std::vector<char> buf;
  if (!lookup(::getgrnam_r, name_or_id.c_str(), gr, buf)) return std::nullopt;
  return group_entry{gr.gr_gid, gr.gr_name};
}

std::vector<gid_t> groups_of(const std::string& user, gid_t primary) {
  std::vector<gid_t> groups(64);
  for (;;) {
    int n = static_cast<int>(groups.size());
    if (::getgrouplist(user.c_str(), primary, groups.data(), &n) >= 0) {
      groups.resize(static_cast<std::size_t>(n));
      break;
    }
    // -1: too small, and n says how many there are.
    groups.resize(std::max<std::size_t>(static_cast<std::size_t>(n), groups.size() * 2));
  }
  // getgrouplist puts `primary` first; keep it there and drop any repeat of it.
  if (groups.empty() || groups.front() != primary) groups.insert(groups.begin(), primary);
  groups.erase(std::remove(groups.begin() + 1, groups.end(), primary), groups.end());
  return groups;
}

std::string user_name(uid_t uid) {
  auto e = by_uid(uid);
  return e ? e->name : std::to_string(uid);
}

std::string group_name(gid_t gid) {
  auto e = by_gid(gid);
  return e ? e->name : std::to_string(gid);
}

}  // namespace fcgimux::config_detail
