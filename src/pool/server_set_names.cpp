// SPDX-License-Identifier: ISC
// A server given by a host name: its name is looked up again every resolve-interval, off the
// event loop (upstream/name_resolver.hpp), and the set follows the answer as it follows a reload
// (pool/server_set_membership.cpp): a new address is a member added in slow start, an address
// gone is a member that drains (its requests in flight finish). A lookup that fails keeps the
// members of the last one that answered, and says so once, not at every interval.

#include "src/base/log.hpp"
#include "src/pool/server_set.hpp"

#include <algorithm>

namespace fcgimux {

void server_set::take_configured_names() {
  known_.clear();
  for (const server_config& c : cfg_.servers)
    if (c.named) known_[c.address] = c.resolved;
  failing_.clear();
}

void server_set::settings_changed() {
  balancer_.set_mode(cfg_.balance);
  // The reload has just resolved every name: a lookup of ours still under way is older than that.
  resolver_.cancel();
  resolve_timer_.cancel();
  take_configured_names();
  apply_servers(false);
  schedule_resolve();
  checks_changed();
}

void server_set::schedule_resolve() {
  const bool named = std::any_of(cfg_.servers.begin(), cfg_.servers.end(), [](auto& c) { return c.named; });
  if (!named || cfg_.resolve_interval <= seconds::zero() || stopped_) return;
  resolve_timer_.expires_after(to_duration(cfg_.resolve_interval));
  resolve_timer_.async_wait([this](const std::error_code& ec) {
    if (!ec && !stopped_) resolve_names();
  });
}

void server_set::resolve_names() {
  std::vector<std::string> hosts;
  for (const server_config& c : cfg_.servers)
    if (c.named)
      if (std::string h = split_host_port(c.address).host; std::find(hosts.begin(), hosts.end(), h) == hosts.end())
        hosts.push_back(std::move(h));
  // The resolver is ours: when the set goes, the answer is dropped, never handed to it.
  resolver_.lookup(hosts, [this](name_answers answers) {
    if (stopped_) return;
    names_answered(answers);
    schedule_resolve();
  });
}

void server_set::names_answered(const name_answers& answers) {
  const std::vector<std::string> failed = take_answers(known_, cfg_.servers, answers);
  for (const server_config& c : cfg_.servers) {
    if (!c.named) continue;
    const bool fails = std::find(failed.begin(), failed.end(), c.address) != failed.end();
    if (fails && failing_.insert(c.address).second) {
      const auto it = answers.find(split_host_port(c.address).host);
      log::error("pool {}: server {}: cannot resolve its name ({}); its {} members are kept until it resolves again",
                 cfg_.name, c.address, it == answers.end() ? "no answer" : it->second.error,
                 known_.count(c.address) ? known_[c.address].size() : 0);
    } else if (!fails && failing_.erase(c.address)) {
      log::info("pool {}: server {}: its name resolves again ({} addresses)", cfg_.name, c.address,
                known_[c.address].size());
    }
  }
  // Members added or drained: the queue looks again (a new one may take a request now).
  if (apply_servers(true)) events_.member_ready();
}

}  // namespace fcgimux
