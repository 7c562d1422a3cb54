// SPDX-License-Identifier: ISC
#include "src/config/program_check.hpp"

#include <fmt/core.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace fcgimux {
namespace {

// 0 when `path` is a file fcgimux may execute, else the errno that says why not.
int executable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (!S_ISREG(st.st_mode)) return EACCES;
  return ::access(path.c_str(), X_OK) == 0 ? 0 : errno;
}

std::string search_path(const pool_config& p) {
  for (const auto& [name, value] : p.env)
    if (name == "PATH") return value;
  const char* path = std::getenv("PATH");
  return path ? path : "/bin:/usr/bin";  // glibc's execvp without PATH
}

// The program's path as seen from outside the jail.
std::string outside(const pool_config& p, const std::string& inside) {
  std::string root = p.chroot;
  while (!root.empty() && root.back() == '/') root.pop_back();
  return root + inside;
}

void check_program(const pool_config& p, bool several) {
  const std::string& program = p.command.front();
  auto fail = [&](const std::string& where, int err) {
    const std::string in_jail = p.chroot.empty() ? "" : fmt::format(" (inside chroot {})", p.chroot);
    throw config_error(fmt::format("{}command: {}{}: {}", several ? fmt::format("pool \"{}\": ", p.name) : "", where,
                                   in_jail, std::strerror(err)));
  };
  if (program.find('/') != std::string::npos) {
    const std::string dir = p.chdir.empty() ? "/" : p.chdir;
    const std::string inside = program.front() == '/' ? program : (dir.back() == '/' ? dir : dir + "/") + program;
    if (int err = executable(outside(p, inside))) fail(inside, err);
    return;
  }
  const std::string path = search_path(p);
  int first_err = ENOENT;
  for (std::size_t start = 0;;) {
    const std::size_t colon = path.find(':', start);
    const std::string_view entry =
        std::string_view(path).substr(start, colon == std::string::npos ? colon : colon - start);
    std::string dir(entry.empty() ? std::string_view(".") : entry);  // an empty entry is the current one, as for execvp
    const std::string cwd = p.chdir.empty() ? "/" : p.chdir;
    if (dir.front() != '/') dir = (cwd.back() == '/' ? cwd : cwd + "/") + dir;  // from the workers' directory
    const std::string inside = dir + "/" + program;
    const int err = executable(outside(p, inside));
    if (err == 0) return;
    if (err != ENOENT && err != ENOTDIR && first_err == ENOENT) first_err = err;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  fail(fmt::format("'{}' along PATH {}", program, path), first_err);
}

}  // namespace

void check_programs(const config& c) {
  for (const pool_config& p : c.pools) check_program(p, c.pools.size() > 1);
}

}  // namespace fcgimux
