// SPDX-License-Identifier: ISC
#include "tests/pools/pools_support.hpp"

#include "tests/support/http_client.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fcgimux::test {

std::uint16_t pool_listening_port(const std::string& text, const std::string& pool) {
  std::istringstream in(text);
  std::string line;
  const std::string prefix = "listening on 127.0.0.1:", suffix = " for pool " + pool;
  while (std::getline(in, line)) {
    auto at = line.find(prefix);
    if (at == std::string::npos || !line.ends_with(suffix)) continue;
    return static_cast<std::uint16_t>(std::stoul(line.substr(at + prefix.size())));
  }
  return 0;
}

pools_instance::pools_instance(nlohmann::json config, std::vector<std::string> extra_args) : dir_("fcgimux-pools") {
  if (!config.contains("stats")) config["stats"] = "127.0.0.1:0";
  std::vector<std::string> names;
  for (auto& p : config.at("pools")) {
    if (!p.contains("listen")) p["listen"] = "127.0.0.1:0";
    names.push_back(p.at("name").get<std::string>());
  }
  const std::string file = dir_.file("pools.json");
  std::ofstream(file) << config.dump(2);
  fcgimux_options o;
  o.listen_tcp = false;
  o.args = {"-c", file};
  o.args.insert(o.args.end(), extra_args.begin(), extra_args.end());
  mux_ = std::make_unique<fcgimux_instance>(o);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const std::string text = mux_->stderr_text();
    stats_port_ = find_listening_port(text, "stats on 127.0.0.1:");
    ports_.clear();
    for (const auto& n : names)
      if (auto p = pool_listening_port(text, n)) ports_[n] = p;
    if (ports_.size() == names.size() && stats_port_ != 0) break;
    if (!mux_->process().running() || std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("fcgimux did not start its pools; stderr:\n" + text);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

nlohmann::json pools_instance::stats(const std::string& path) const {
  auto r = http_request(stats_port_, "GET", path);
  if (!r.ok || r.status != 200) throw std::runtime_error("GET " + path + " failed: " + r.error);
  return nlohmann::json::parse(r.body);
}

}  // namespace fcgimux::test
