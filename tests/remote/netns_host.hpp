// SPDX-License-Identifier: ISC
#pragma once
// A network namespace per remote server (issue 22, "How to test"): its own address, reached from
// the root namespace over a veth pair, so that a fault (an nftables drop rule) touches one server
// only. Addresses come from 198.18.0.0/15, the range set aside for benchmark tests. Needs root.

#include <string>

namespace fcgimux::test {

/// True when this process may create network namespaces (root, with `ip` and `nft` installed).
bool can_make_namespaces();

/// A network namespace "fcgimux-PID-INDEX" with a veth pair: 198.18.X.1 on the host side,
/// 198.18.X.2 inside (a /30 per namespace, X derived from the pid and the index so that parallel
/// test processes never share one). Removed on destruction.
class net_namespace {
 public:
  /// Creates it (index 0 to 3 per test process); throws, naming the failed command, on failure.
  explicit net_namespace(int index);
  net_namespace(const net_namespace&) = delete;
  net_namespace& operator=(const net_namespace&) = delete;
  ~net_namespace();

  /// The name `ip netns exec` takes.
  const std::string& name() const noexcept { return name_; }
  /// The address inside, where its server listens.
  const std::string& inside() const noexcept { return inside_; }
  /// Drops every packet in and out of the namespace, silently (no reset, no ICMP): an nftables
  /// table inside it, so the root namespace's rules are never touched.
  void drop_all();
  /// Removes what drop_all() added.
  void pass_all();

 private:
  std::string name_, host_link_, inside_;
};

/// Removes namespaces (and their host links) that a test process now gone left behind.
void remove_stale_namespaces();

}  // namespace fcgimux::test
