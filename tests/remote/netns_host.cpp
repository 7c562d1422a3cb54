// SPDX-License-Identifier: ISC
#include "tests/remote/netns_host.hpp"

#include "tests/support/run_program.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <stdexcept>

namespace fcgimux::test {

using namespace std::chrono_literals;

namespace {

constexpr const char* prefix = "fcgimux-";
constexpr const char* drop_table = "fcgimux_fault";

child_result run(const std::vector<std::string>& argv) { return run_child(argv, 30s); }

void must(const std::vector<std::string>& argv) {
  auto r = run(argv);
  if (!r.started || r.exit_code != 0) {
    std::string line;
    for (auto& a : argv) line += a + " ";
    throw std::runtime_error("netns: `" + line + "` failed: " + r.err);
  }
}

// A veth name must fit IFNAMSIZ (15 characters): "fxh" + pid + "i" + index.
std::string host_link_of(long pid, int index) { return "fxh" + std::to_string(pid) + "i" + std::to_string(index); }

}  // namespace

bool can_make_namespaces() {
  return ::geteuid() == 0 && find_program("ip").has_value() && find_program("nft").has_value();
}

net_namespace::net_namespace(int index) {
  if (index < 0 || index > 3) throw std::invalid_argument("netns: index 0 to 3");
  const long pid = ::getpid();
  name_ = prefix + std::to_string(pid) + "-" + std::to_string(index);
  host_link_ = host_link_of(pid, index);
  const std::string peer = "fxp" + std::to_string(pid) + "i" + std::to_string(index);
  // 198.18.0.0/15 holds 32768 /30 subnets: 8192 processes with 4 each. Two live test processes
  // whose pids agree modulo 8192 would share a subnet; the routes would then be ambiguous, so that
  // is refused below rather than left to misroute.
  const long slot = (pid % 8192) * 4 + index;
  const std::string net = "198." + std::to_string(18 + slot / 16384) + "." + std::to_string(slot / 64 % 256) + ".";
  const int base = static_cast<int>(slot % 64) * 4;
  const std::string host = net + std::to_string(base + 1);
  inside_ = net + std::to_string(base + 2);
  if (!run({"ip", "-o", "addr", "show", "to", host}).out.empty())
    throw std::runtime_error("netns: " + host + " is in use by another test process");
  remove_stale_namespaces();
  must({"ip", "netns", "add", name_});
  try {
    must({"ip", "link", "add", host_link_, "type", "veth", "peer", "name", peer});
    must({"ip", "link", "set", peer, "netns", name_});
    must({"ip", "addr", "add", host + "/30", "dev", host_link_});
    must({"ip", "link", "set", host_link_, "up"});
    must({"ip", "-n", name_, "addr", "add", inside_ + "/30", "dev", peer});
    must({"ip", "-n", name_, "link", "set", peer, "up"});
    must({"ip", "-n", name_, "link", "set", "lo", "up"});
  } catch (...) {
    run({"ip", "link", "del", host_link_});
    run({"ip", "netns", "del", name_});
    throw;
  }
}

net_namespace::~net_namespace() {
  // Deleting the namespace destroys the veth peer inside it and so the pair, but only once the
  // last process in it is gone and asynchronously: the host link is removed explicitly.
  run({"ip", "link", "del", host_link_});
  run({"ip", "netns", "del", name_});
}

void net_namespace::drop_all() {
  const std::string t = std::string("inet ") + drop_table;
  must({"ip", "netns", "exec", name_, "nft", "add table " + t});
  for (const char* hook : {"input", "output"})
    must({"ip", "netns", "exec", name_, "nft",
          "add chain " + t + " " + hook + " { type filter hook " + hook + " priority 0; policy drop; }"});
}

void net_namespace::pass_all() {
  must({"ip", "netns", "exec", name_, "nft", std::string("delete table inet ") + drop_table});
}

void remove_stale_namespaces() {
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) != 0) continue;
    const auto dash = n.find('-', std::string(prefix).size());
    if (dash == std::string::npos) continue;
    long pid = 0;
    int index = 0;
    try {
      pid = std::stol(n.substr(std::string(prefix).size(), dash - std::string(prefix).size()));
      index = std::stoi(n.substr(dash + 1));
    } catch (...) {
      continue;
    }
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    run({"ip", "link", "del", host_link_of(pid, index)});
    run({"ip", "netns", "del", n});
  }
}

}  // namespace fcgimux::test
