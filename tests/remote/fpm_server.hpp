// SPDX-License-Identifier: ISC
#pragma once
// A private php-fpm (Debian's php8.2-fpm) for the remote-server tests: its own configuration and
// temp directory, pm = static, listening on a free 127.0.0.1 port (or port 9000 inside a network
// namespace of its own, or the address and port given), serving one script that says which server answered
// (env[SERVER_MARK]) and what body it read, with its status page on.

#include "tests/support/child_process.hpp"
#include "tests/support/net.hpp"
#include "tests/support/temp_dir.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace fcgimux::test {

/// The php-fpm binary.
inline constexpr const char* php_fpm_bin = "/usr/sbin/php-fpm8.2";

/// The script every server (and a local php-cgi worker) runs: "server=MARK method=M len=N crc=HEX";
/// ?sleep=MS sleeps (after reading the whole request), and env[SERVER_SLEEP_MS] as much again.
std::string answer_script();

class net_namespace;

/// Where and how a php-fpm runs besides its mark and number of children.
struct fpm_setup {
  const net_namespace* ns = nullptr;  ///< set: runs inside it (`ip netns exec`), on its address
  int slow_ms = 0;                    ///< every request sleeps this long more (a slow server)
  std::string host;                   ///< set (without ns): listens there, e.g. 127.0.0.2; else 127.0.0.1
  std::uint16_t port = 0;             ///< set (without ns): listens on it; else a free port
};

class fpm_server {
 public:
  /// Starts php-fpm with `children` processes; `mark` is what its answers name. Throws on failure.
  fpm_server(std::string mark, int children, const fpm_setup& setup = {});
  fpm_server(const fpm_server&) = delete;
  fpm_server& operator=(const fpm_server&) = delete;

  /// "HOST:PORT", as --server takes it.
  std::string address() const;
  endpoint where() const { return endpoint{{}, host_, port_}; }
  const std::string& mark() const noexcept { return mark_; }
  /// SCRIPT_FILENAME of the answer script.
  std::string script() const { return dir_.file("answer.php"); }
  /// php-fpm's status page (?json), asked directly: "max active processes", "accepted conn", ...
  std::map<std::string, long> status() const;
  /// The most requests the script had in flight at once on this server, by its own count.
  int peak() const {
    auto t = read_file(dir_.file("peak-" + mark_));
    return t.empty() ? 0 : std::stoi(t);
  }
  /// php-fpm's log, for failure messages.
  std::string log() const { return read_file(dir_.file("fpm.log")); }
  child_process& process() noexcept { return process_; }

 private:
  std::string mark_;
  temp_dir dir_;
  std::string host_ = "127.0.0.1";
  std::uint16_t port_ = 0;
  child_process process_;
};

/// One request's answer as the script reports it.
struct script_answer {
  bool ok = false;
  std::string server, method;
  std::size_t length = 0;
  std::string crc;
};

/// Parses the script's line (nullopt-like: ok false when it is not one).
script_answer parse_answer(const std::string& body);
/// CRC-32 of `data` as PHP's sprintf('%08x', crc32(...)) prints it.
std::string crc32_hex(const std::string& data);

/// TCP connections in `state` (/proc/net/tcp's hex code) with `port` at their local end, or at
/// either end when `either_end`. Those still in a listener's accept queue count too.
int connections_in(std::uint16_t port, const std::string& state, bool either_end);
/// Connections established to 127.0.0.1:`port` now, counted at the server's end.
inline int connections_to(std::uint16_t port) { return connections_in(port, "01", false); }
/// Connections to `port` closed lately: TIME_WAIT (06) at whichever end closed first.
inline int ended_connections(std::uint16_t port) { return connections_in(port, "06", true); }

}  // namespace fcgimux::test
