// SPDX-License-Identifier: ISC
#pragma once
// Several pools in one fcgimux (issue 14): a running fcgimux started from a pools file, with the
// port of each pool's listener.

#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace fcgimux::test {

/// fcgimux -c FILE, FILE written from `config` (every pool listening on 127.0.0.1:0, stats on a
/// free port); started once every pool's listener and the stats port are known.
class pools_instance {
 public:
  explicit pools_instance(nlohmann::json config, std::vector<std::string> extra_args = {});

  std::uint16_t port(const std::string& pool) const { return ports_.at(pool); }
  std::uint16_t stats_port() const noexcept { return stats_port_; }
  fcgimux_instance& mux() noexcept { return *mux_; }
  std::string stderr_text() const { return mux_->stderr_text(); }
  /// The configuration file it was started with (rewrite it, then SIGHUP, to reload).
  std::string config_path() const { return dir_.file("pools.json"); }
  /// GET /stats (or another path) from the stats port, parsed.
  nlohmann::json stats(const std::string& path = "/stats") const;

 private:
  temp_dir dir_;
  std::unique_ptr<fcgimux_instance> mux_;
  std::map<std::string, std::uint16_t> ports_;
  std::uint16_t stats_port_ = 0;
};

/// The port in the stderr line "listening on 127.0.0.1:PORT for pool NAME"; 0 if none yet.
std::uint16_t pool_listening_port(const std::string& stderr_text, const std::string& pool);

}  // namespace fcgimux::test
