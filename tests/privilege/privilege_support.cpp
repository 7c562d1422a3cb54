// SPDX-License-Identifier: ISC
#include "privilege_support.hpp"

#include "tests/support/cgi_response.hpp"
#include "tests/support/fcgi_client.hpp"
#include "tests/support/run_program.hpp"
#include "tests/support/temp_dir.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fcgimux::test {

std::string install_responder(const std::string& dir) {
  if (::chmod(dir.c_str(), 0755) != 0) throw std::runtime_error("chmod " + dir);
  const std::string to = dir + "/identity-responder";
  write_file(to, read_file(identity_responder_bin), true);
  if (::chmod(to.c_str(), 0755) != 0) throw std::runtime_error("chmod " + to);
  return to;
}

proc_identity identity_of(pid_t pid) {
  proc_identity out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  auto numbers = [](const std::string& rest) {
    std::vector<unsigned> v;
    std::istringstream s(rest);
    unsigned n;
    while (s >> n) v.push_back(n);
    return v;
  };
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon), rest = line.substr(colon + 1);
    std::string word;
    std::istringstream(rest) >> word;
    if (key == "Uid") out.uid = numbers(rest);
    if (key == "Gid") out.gid = numbers(rest);
    if (key == "Groups")
      for (unsigned g : numbers(rest)) out.groups.insert(g);
    if (key == "CapBnd") out.cap_bounding = word;
    if (key == "CapEff") out.cap_effective = word;
    if (key == "CapPrm") out.cap_permitted = word;
    if (key == "CapInh") out.cap_inheritable = word;
    if (key == "CapAmb") out.cap_ambient = word;
  }
  return out;
}

std::string proc_link(pid_t pid, const char* which) {
  char buf[PATH_MAX];
  const std::string link = "/proc/" + std::to_string(pid) + "/" + which;
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

std::vector<pid_t> workers_running(const fcgimux_instance& mux, std::size_t n, const std::string& program,
                                   std::chrono::milliseconds timeout) {
  const std::string comm = program.substr(program.rfind('/') + 1).substr(0, 15);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<pid_t> running;
    for (pid_t w : mux.worker_pids()) {
      std::string c = read_file("/proc/" + std::to_string(w) + "/comm");
      if (!c.empty() && c.back() == '\n') c.pop_back();
      if (c == comm) running.push_back(w);
    }
    if (running.size() >= n) return running;
    if (std::chrono::steady_clock::now() > deadline) return {};
    std::this_thread::sleep_for(10ms);
  }
}

std::string ask_identity(const endpoint& where) {
  fcgi_client c(where);
  if (!c.connected()) return "";
  request_spec r;
  r.params = cgi_params("GET", "/whoami");
  if (c.exchange(r, 10s) != read_status::ok) return "";
  return parse_cgi_response(c.response(1).out).body;
}

int connect_errno_as(uid_t uid, gid_t gid, const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only system calls here: the child of a test process.
    if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(200);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) ::_exit(201);
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::_exit(rc == 0 ? 0 : errno);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) throw std::runtime_error("the connecting child did not exit");
  if (WEXITSTATUS(status) >= 200) throw std::runtime_error("the connecting child could not take the ids");
  return WEXITSTATUS(status);
}

std::set<unsigned> groups_by_id_tool(const std::string& user) {
  auto r = run_child({"id", "-G", user}, 10s);
  std::set<unsigned> out;
  std::istringstream s(r.out);
  unsigned g;
  while (s >> g) out.insert(g);
  return out;
}

temp_group::temp_group(const std::string& member) : name_("fcgimux-t" + std::to_string(::getpid())) {
  auto add = run_child({"groupadd", "--system", name_}, 30s);
  if (add.exit_code != 0) throw std::runtime_error("groupadd " + name_ + ": " + add.err);
  auto join = run_child({"gpasswd", "-a", member, name_}, 30s);
  if (join.exit_code != 0) {
    run_child({"groupdel", name_}, 30s);
    throw std::runtime_error("gpasswd -a " + member + " " + name_ + ": " + join.err);
  }
  if (group* g = ::getgrnam(name_.c_str())) gid_ = g->gr_gid;
}

temp_group::~temp_group() { run_child({"groupdel", name_}, 30s); }

std::string stderr_of(const fcgimux_instance& mux) { return mux.stderr_text(); }

}  // namespace fcgimux::test
