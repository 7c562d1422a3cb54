// SPDX-License-Identifier: ISC
#pragma once
// Users and groups by name or number, from the system's databases (NSS). Start-up and reload only:
// a lookup may block, and none may run in a forked child. Internal to src/config/.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace fcgimux::config_detail {

struct user_entry {
  uid_t uid = 0;
  gid_t gid = 0;       ///< primary group; meaningful only when `known`
  std::string name;    ///< empty for a number with no passwd entry
  bool known = false;  ///< found in the passwd database
};

struct group_entry {
  gid_t gid = 0;
  std::string name;  ///< empty for a number with no group entry
};

/// A user by name, or by number (a number need not have an entry). Nothing: no such name.
std::optional<user_entry> find_user(const std::string& name_or_id);
/// A group by name, or by number. Nothing: no such name.
std::optional<group_entry> find_group(const std::string& name_or_id);
/// The groups `user` belongs to, `primary` first, as initgroups(3) would set them.
std::vector<gid_t> groups_of(const std::string& user, gid_t primary);
/// Names for the log: the entry's name, or the number.
std::string user_name(uid_t uid);
std::string group_name(gid_t gid);

}  // namespace fcgimux::config_detail
