// SPDX-License-Identifier: ISC
// kfcgi and spawn-fcgi command lines that drop privileges (issue 16), as root with real users
// (nobody for the workers, www-data as nginx's user), a real chroot jail holding the static
// identity responder of tests/privilege, nginx in front, and kfcgi's daemon logging to syslog.

#include "backends.hpp"
#include "compat_support.hpp"
#include "tests/privilege/privilege_support.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/fcgi_client.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/test_data.hpp"
#include "tests/support/unique_fd.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <regex>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

constexpr unsigned nobody = 65534, nogroup = 65534, www_data = 33;

// kfcgi's layout: the program at /identity-responder inside the jail, the web server's socket in
// the jail's /run; a /jail-marker the responder looks for, and an /app directory.
struct jail {
  temp_dir dir{"fcgimux-jail"};
  std::string root;
  jail() {
    install_responder(dir.path());  // makes the jail 0755: nobody and www-data reach into it
    write_file(dir.file("jail-marker"), "inside\n");
    REQUIRE(::mkdir(dir.file("run").c_str(), 0755) == 0);
    REQUIRE(::mkdir(dir.file("app").c_str(), 0755) == 0);
    char real[PATH_MAX];
    REQUIRE(::realpath(dir.path().c_str(), real) != nullptr);
    root = real;  // what /proc/PID/root shows
  }
};

// The children of `pid` that have exec'd the identity responder, once there are `n` of them.
std::vector<pid_t> responders_of(pid_t pid, std::size_t n) {
  std::vector<pid_t> found;
  eventually(
      [&] {
        found.clear();
        for (pid_t c : children_of(pid))
          if (read_file("/proc/" + std::to_string(c) + "/comm") == "identity-respon\n") found.push_back(c);
        return found.size() == n;
      },
      10s);
  return found;
}

struct stat stat_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

// `text` as a regular expression that matches only itself.
std::string literally(const std::string& text) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, special, R"(\$&)");
}

std::vector<unsigned> all_four(unsigned id) { return {id, id, id, id}; }  // real, effective, saved, filesystem

// The datagrams a private /dev/log receives: fcgimux runs in a mount namespace of its own (unshare
// -m, as tests/logs does) whose /dev is a directory holding this socket as "log" and the device
// nodes a process needs. glibc's syslog() always writes to /dev/log; there is no syslog daemon here.
class private_dev_log {
 public:
  private_dev_log() {
    REQUIRE(::mkdir(dev_.c_str(), 0755) == 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = dev_ + "/log";
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(sock_);
    REQUIRE(::bind(sock_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  // `command` run in that namespace: unshare and sh exec it, so it keeps the child's pid.
  std::vector<std::string> wrap(const std::vector<std::string>& command) const {
    static const std::string script =
        "set -e; mount --make-rprivate /; "
        "for f in null zero random urandom; do : > \"$0/$f\"; mount --bind \"/dev/$f\" \"$0/$f\"; done; "
        "mount --bind \"$0\" /dev; exec \"$@\"";
    std::vector<std::string> argv = {"/usr/bin/unshare", "--mount", "/bin/sh", "-c", script, dev_};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }
  // The first message containing `what` (waiting up to 10 s for it); "" if none came.
  std::string receive(const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      for (const auto& m : messages_)
        if (m.find(what) != std::string::npos) return m;
      if (std::chrono::steady_clock::now() > deadline) return "";
      pollfd pfd{sock_.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char buf[8192];
      const ssize_t n = ::recv(sock_.get(), buf, sizeof buf, 0);
      if (n > 0) messages_.emplace_back(buf, static_cast<std::size_t>(n));
    }
  }
  const std::vector<std::string>& messages() const noexcept { return messages_; }

 private:
  temp_dir dir_{"fcgimux-devlog"};
  std::string dev_ = dir_.file("dev");
  unique_fd sock_{::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  std::vector<std::string> messages_;
};

}  // namespace

TEST_CASE("kfcgi -d -s SOCK -p JAIL -U nobody -u www-data -n 2 serves a static program in the jail through nginx",
          "[compat][kfcgi][privilege]") {
  REQUIRE(::geteuid() == 0);
  linked_binary bin("kfcgi");
  jail j;
  const std::string sock = j.root + "/run/httpd.sock";
  child_process p = start_exactly(
      bin, {"-d", "-s", sock, "-p", j.root, "-U", "nobody", "-u", "www-data", "-n", "2", "--", "/identity-responder"});
  REQUIRE(eventually([&] { return printed(bin, "listening on unix:" + sock); }, 10s));
  const auto workers = responders_of(p.pid(), 2);
  INFO(stderr_of(bin));
  REQUIRE(workers.size() == 2);
  CHECK(printed(bin,
                "pool default: workers run as user nobody (uid 65534), group nogroup (gid 65534), groups 65534, "
                "root " +
                    j.root + "\n"));
  for (pid_t w : workers) {
    CHECK(proc_link(w, "root") == j.root);
    CHECK(identity_of(w).uid == all_four(nobody));
    CHECK(identity_of(w).gid == all_four(nogroup));
  }

  // kfcgi's socket: mode 0660, owned by -u and its primary group, so that nginx's user may connect.
  const struct stat st = stat_of(sock);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0660);
  CHECK(st.st_uid == www_data);
  CHECK(st.st_gid == www_data);
  CHECK(connect_errno_as(www_data, www_data, sock) == 0);
  CHECK(connect_errno_as(nobody, nogroup, sock) == EACCES);  // not even the workers' own user

  nginx_options n;
  n.upstream = endpoint::unix_socket(sock);
  nginx_instance nginx(n);
  for (int i = 0; i < 4; ++i) {
    const http_response r = http_request(nginx.port(), "GET", "/whoami");
    INFO(nginx.error_log());
    REQUIRE(r.ok);
    CHECK(r.status == 200);
    CHECK(r.body.find("uid=65534 euid=65534 gid=65534 egid=65534") == 0);
    CHECK(r.body.find("\ncwd=/\n") != std::string::npos);
    CHECK(r.body.find("\nmarker=yes\n") != std::string::npos);  // it sees the jail as /
    CHECK(r.body.find("setuid0=-1 EPERM") != std::string::npos);
  }
  p.stop();
  CHECK_FALSE(exists(sock));
}

TEST_CASE("kfcgi without -d daemonises and logs to syslog with the daemon facility",
          "[compat][kfcgi][daemon][syslog]") {
  REQUIRE(::geteuid() == 0);
  linked_binary bin("kfcgi");
  jail j;
  const std::string sock = j.root + "/run/httpd.sock";
  private_dev_log dev_log;
  spawn_options s;
  s.argv = dev_log.wrap({bin.path(), "-s", sock, "-p", j.root, "-U", "nobody", "-n", "1", "--", "/identity-responder"});
  s.stderr_path = bin.file("stderr.txt");
  child_process launcher(s);
  auto st = launcher.wait_exit(15s);
  INFO("stderr: " << stderr_of(bin));
  REQUIRE(st.has_value());
  CHECK(st->exited);
  CHECK(st->code == 0);  // once the daemon serves

  // "<30>": LOG_DAEMON (3 << 3) | LOG_INFO (6), then glibc's "Mmm dd hh:mm:ss", the ident and the pid.
  const std::string background = dev_log.receive("running in the background as pid ");
  REQUIRE(!background.empty());
  std::smatch m;
  REQUIRE(std::regex_match(background, m,
                           std::regex(R"(<30>\w{3} [ \d]\d \d\d:\d\d:\d\d fcgimux\[(\d+)\]: )"
                                      R"(running in the background as pid (\d+))")));
  CHECK(m[1] == m[2]);
  daemon_guard d;
  d.pid = static_cast<pid_t>(std::stol(m[1]));
  CHECK(d.pid != launcher.pid());
  CHECK(process_alive(d.pid));
  CHECK(::getsid(d.pid) == d.pid);
  for (int fd = 0; fd <= 2; ++fd) CHECK(fd_target(d.pid, fd) == "/dev/null");
  const std::string me = " fcgimux[" + std::to_string(d.pid) + "]: ";
  CHECK(std::regex_match(dev_log.receive("listening on unix:"),
                         std::regex(R"(<30>.*)" + literally(me + "listening on unix:" + sock + " for pool default"))));
  CHECK(std::regex_match(dev_log.receive("workers run as"),
                         std::regex(R"(<30>.*)" + literally(me) + "pool default: workers run as user nobody .*")));

  const auto workers = responders_of(d.pid, 1);
  REQUIRE(workers.size() == 1);
  CHECK(proc_link(workers.front(), "root") == j.root);
  CHECK(ask_identity(endpoint::unix_socket(sock)).find("uid=65534 euid=65534") == 0);

  REQUIRE(::kill(d.pid, SIGTERM) == 0);
  CHECK(std::regex_match(dev_log.receive("]: stopped"), std::regex(R"(<29>.*)" + literally(me) + "stopped")));
  const bool gone = eventually([&] { return !process_alive(d.pid); }, 15s);
  if (!gone) WARN("the daemon's threads: " << threads_of(d.pid));
  CHECK(gone);
  CHECK_FALSE(process_alive(workers.front()));
  CHECK_FALSE(exists(sock));
  for (const auto& msg : dev_log.messages()) CHECK(msg.find(me) != std::string::npos);  // all from the daemon
  CHECK(stderr_of(bin).empty());                                                        // everything went to syslog
}

TEST_CASE("spawn-fcgi -U -G -M give the unix socket's owner, group and mode, and -u the workers' user",
          "[compat][spawn-fcgi][privilege]") {
  REQUIRE(::geteuid() == 0);
  linked_binary bin("spawn-fcgi");
  temp_dir dir;
  const std::string responder = install_responder(dir.path());
  const std::string sock = dir.file("fcgi.sock");
  child_process p = start_exactly(bin, {"-n", "-s", sock, "-U", "www-data", "-G", "nogroup", "-M", "0600", "-u",
                                        "nobody", "-F", "2", "--", responder});
  REQUIRE(eventually([&] { return printed(bin, "listening on unix:" + sock); }, 10s));
  const auto workers = responders_of(p.pid(), 2);
  INFO(stderr_of(bin));
  REQUIRE(workers.size() == 2);
  for (pid_t w : workers) CHECK(identity_of(w).uid == all_four(nobody));
  const struct stat st = stat_of(sock);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == www_data);
  CHECK(st.st_gid == nogroup);
  CHECK(connect_errno_as(www_data, www_data, sock) == 0);
  CHECK(connect_errno_as(nobody, nogroup, sock) == EACCES);  // its group, but -M gave the group nothing
  CHECK(ask_identity(endpoint::unix_socket(sock)).find("uid=65534 euid=65534") == 0);
  p.stop();
  CHECK_FALSE(exists(sock));
}

TEST_CASE("spawn-fcgi -c JAIL -d DIR: the socket inside the jail, a static program served from it",
          "[compat][spawn-fcgi][privilege]") {
  REQUIRE(::geteuid() == 0);
  linked_binary bin("spawn-fcgi");
  jail j;
  // As spawn-fcgi without -S: the socket path is taken inside the jail.
  child_process p = start_exactly(bin, {"-n", "-s", "/run/fcgi.sock", "-c", j.root, "-d", "/app", "-u", "nobody", "-U",
                                        "www-data", "-F", "2", "--", "/identity-responder"});
  const std::string sock = j.root + "/run/fcgi.sock";
  REQUIRE(eventually([&] { return printed(bin, "listening on unix:" + sock); }, 10s));
  const auto workers = responders_of(p.pid(), 2);
  INFO(stderr_of(bin));
  REQUIRE(workers.size() == 2);
  for (pid_t w : workers) {
    CHECK(proc_link(w, "root") == j.root);
    CHECK(proc_link(w, "cwd") == j.root + "/app");
    CHECK(identity_of(w).uid == all_four(nobody));
  }
  const struct stat st = stat_of(sock);
  CHECK(st.st_uid == www_data);
  CHECK(st.st_gid == www_data);  // -U without -G: that user's primary group
  const std::string body = ask_identity(endpoint::unix_socket(sock));
  CHECK(body.find("uid=65534 euid=65534") == 0);
  CHECK(body.find("\ncwd=/app\n") != std::string::npos);
  CHECK(body.find("\nmarker=yes\n") != std::string::npos);
  CHECK(body.find("setuid0=-1 EPERM") != std::string::npos);
}

TEST_CASE("as root without a workers' user, each mode refuses in one line naming its own flag", "[compat][privilege]") {
  REQUIRE(::geteuid() == 0);
  const std::string port = std::to_string(free_tcp_port());
  {
    linked_binary bin("spawn-fcgi");
    child_process p = start_exactly(bin, {"-n", "-a", "127.0.0.1", "-p", port, "--", demo_bin});
    auto st = p.wait_exit(10s);
    REQUIRE(st.has_value());
    CHECK(st->code == 2);
    CHECK(stderr_of(bin) ==
          "fcgimux: error: spawn-fcgi: started as root: name the workers' user with -u user (--user root runs them "
          "as root, with a warning)\n");
  }
  {
    linked_binary bin("kfcgi");
    const std::string sock = bin.file("httpd.sock");
    child_process p = start_exactly(bin, {"-d", "-p", "/", "-s", sock, "-u", "www-data", "--", demo_bin});
    auto st = p.wait_exit(10s);
    REQUIRE(st.has_value());
    CHECK(st->code == 2);
    CHECK(stderr_of(bin) ==
          "fcgimux: error: kfcgi: started as root: name the workers' user with -U procuser (--user root runs them as "
          "root, with a warning)\n");
    CHECK_FALSE(exists(sock));
  }
}
