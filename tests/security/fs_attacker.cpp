// SPDX-License-Identifier: ISC
// The local attacker of the filesystem tests: a process that drops to nobody before it does
// anything, and then, in a directory it owns, swaps names for symbolic links (or FIFOs) the way a
// real one would, as fast as the kernel tells it a name appeared. Its stdout says what it did.
//
//   fs-attacker race DIR SUFFIX TARGET      on every IN_CREATE of *SUFFIX in DIR: a link to TARGET
//                                           renamed over it ("swapped NAME" per swap); until killed
//   fs-attacker link PATH TARGET            PATH renamed to PATH.1, a link to TARGET put at PATH
//   fs-attacker fifo PATH                   PATH renamed to PATH.1, a FIFO put at PATH
//   fs-attacker precreate PREFIX SUFFIX file|fifo N...
//                                           PREFIX<N>SUFFIX for each N, mode 0666

#include <fcntl.h>
#include <grp.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr uid_t nobody = 65534;

[[noreturn]] void die(const char* what) {
  std::fprintf(stdout, "error: %s: %s\n", what, std::strerror(errno));
  std::fflush(stdout);
  std::exit(1);
}

void say(const std::string& line) {
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
}

void become_nobody() {
  if (::setgroups(0, nullptr) != 0 || ::setgid(nobody) != 0 || ::setuid(nobody) != 0) die("dropping to nobody");
  if (::setuid(0) == 0) die("still root");
  ::umask(0);
}

// Rename is atomic: at no moment is the name missing, and the creator's next call by that name
// reaches the link.
int race(const std::string& dir, const std::string& suffix, const std::string& target) {
  const int in = ::inotify_init1(IN_CLOEXEC);
  if (in < 0 || ::inotify_add_watch(in, dir.c_str(), IN_CREATE) < 0) die("inotify");
  const std::string spare = dir + "/.spare-link";
  ::unlink(spare.c_str());
  if (::symlink(target.c_str(), spare.c_str()) != 0) die("symlink");
  say("ready");
  alignas(inotify_event) char buf[4096];
  for (;;) {
    const ssize_t n = ::read(in, buf, sizeof buf);
    if (n <= 0) die("read");
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->len == 0) continue;
      const std::string name = ev->name;
      if (name[0] == '.' || name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      if (::rename(spare.c_str(), (dir + "/" + name).c_str()) == 0) say("swapped " + name);
      if (::symlink(target.c_str(), spare.c_str()) != 0 && errno != EEXIST) die("symlink");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  become_nobody();
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "race" && argc == 5) return race(argv[2], argv[3], argv[4]);
  if ((mode == "link" && argc == 4) || (mode == "fifo" && argc == 3)) {
    const std::string path = argv[2], fresh = path + ".new";
    ::unlink(fresh.c_str());
    if (mode == "link" ? ::symlink(argv[3], fresh.c_str()) != 0 : ::mkfifo(fresh.c_str(), 0666) != 0) die("create");
    if (::rename(path.c_str(), (path + ".1").c_str()) != 0) die("rename away");
    if (::rename(fresh.c_str(), path.c_str()) != 0) die("rename over");
    say("done");
    return 0;
  }
  if (mode == "precreate" && argc >= 6) {
    const bool fifo = std::string(argv[4]) == "fifo";
    for (int i = 5; i < argc; ++i) {
      const std::string path = std::string(argv[2]) + argv[i] + argv[3];
      if (fifo ? ::mkfifo(path.c_str(), 0666) != 0 : ::close(::creat(path.c_str(), 0666)) != 0) die(path.c_str());
    }
    say("done");
    return 0;
  }
  std::fprintf(stderr, "usage: fs-attacker race|link|fifo|precreate ...\n");
  return 2;
}
