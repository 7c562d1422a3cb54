// SPDX-License-Identifier: ISC
#include "tests/remote/fpm_server.hpp"

#include "tests/remote/netns_host.hpp"
#include "tests/support/fcgi_client.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fcgimux::test {

std::string answer_script() {
  // The script counts the requests in flight in its directory, per SERVER_MARK (under a lock),
  // and keeps the highest count: the server's own measure of its concurrency.
  return R"(<?php
function bump($d) {
  $mark = getenv('SERVER_MARK');
  $f = fopen(__DIR__ . "/inflight-$mark", 'c+');
  flock($f, LOCK_EX);
  $n = (int)stream_get_contents($f) + $d;
  ftruncate($f, 0); rewind($f); fwrite($f, (string)$n);
  $peak = (int)@file_get_contents(__DIR__ . "/peak-$mark");
  if ($n > $peak) file_put_contents(__DIR__ . "/peak-$mark", (string)$n);
  flock($f, LOCK_UN);
  fclose($f);
}
// The whole request is read before the work starts: a server killed during the sleep has read
// everything it was sent (its socket holds nothing unread).
$body = file_get_contents('php://input');
bump(1);
if (isset($_GET['sleep'])) usleep((int)$_GET['sleep'] * 1000);
if (getenv('SERVER_SLEEP_MS')) usleep((int)getenv('SERVER_SLEEP_MS') * 1000);
bump(-1);
$mark = getenv('SERVER_MARK');
header('Content-Type: text/plain');
printf("server=%s method=%s len=%d crc=%08x\n", $mark === false ? '-' : $mark, $_SERVER['REQUEST_METHOD'],
       strlen($body), crc32($body));
)";
}

fpm_server::fpm_server(std::string mark, int children, const fpm_setup& setup)
    : mark_(std::move(mark)), dir_("fcgimux-fpm") {
  write_file(dir_.file("answer.php"), answer_script());
  // A free port now; php-fpm takes no port 0. Another test could take it first: then php-fpm
  // fails to bind and this throws, naming why. A namespace of its own has every port free.
  if (setup.ns) {
    host_ = setup.ns->inside();
    port_ = 9000;
  } else {
    if (!setup.host.empty()) host_ = setup.host;
    port_ = setup.port != 0 ? setup.port : free_tcp_port();
  }
  const bool root = ::geteuid() == 0;
  std::ostringstream conf;
  conf << "[global]\nerror_log = " << dir_.file("fpm.log") << "\ndaemonize = no\npid = " << dir_.file("fpm.pid")
       << "\n[answer]\nlisten = " << host_ << ":" << port_
       << "\nlisten.backlog = 511\npm = static\npm.max_children = " << children
       << "\npm.status_path = /fpm-status\nping.path = /ping\nenv[SERVER_MARK] = " << mark_
       << "\ncatch_workers_output = yes\n";
  if (setup.slow_ms > 0) conf << "env[SERVER_SLEEP_MS] = " << setup.slow_ms << "\n";
  if (root) conf << "user = root\ngroup = root\n";
  write_file(dir_.file("fpm.conf"), conf.str());
  spawn_options o;
  if (setup.ns) o.argv = {"/usr/sbin/ip", "netns", "exec", setup.ns->name()};
  o.argv.insert(o.argv.end(), {php_fpm_bin, "-y", dir_.file("fpm.conf"), "-F", "-n", "-d", "display_errors=stderr"});
  if (root) o.argv.push_back("-R");
  o.stderr_path = dir_.file("stderr.log");
  process_ = child_process(o);
  if (!wait_connectable(where(), std::chrono::seconds(20)))
    throw std::runtime_error("php-fpm " + mark_ + " did not listen on " + address() + ": " + log() +
                             read_file(dir_.file("stderr.log")));
}

std::string fpm_server::address() const { return host_ + ":" + std::to_string(port_); }

std::map<std::string, long> fpm_server::status() const {
  std::map<std::string, long> out;
  fcgi_client c(where());
  if (!c.connected()) return out;
  request_spec r;
  r.params = cgi_params("GET", "/fpm-status?json");
  r.params.emplace_back("SCRIPT_FILENAME", "/fpm-status");
  if (c.exchange(r, std::chrono::seconds(10)) != read_status::ok) return out;
  const std::string& body = c.response(1).out;
  auto start = body.find("\r\n\r\n");
  auto j = nlohmann::json::parse(body.substr(start == std::string::npos ? 0 : start + 4), nullptr, false);
  if (!j.is_object()) return out;
  for (auto& [k, v] : j.items())
    if (v.is_number_integer()) out[k] = v.get<long>();
  return out;
}

script_answer parse_answer(const std::string& body) {
  script_answer a;
  std::istringstream in(body);
  std::string item;
  int seen = 0;
  while (in >> item) {
    auto eq = item.find('=');
    if (eq == std::string::npos) continue;
    std::string k = item.substr(0, eq), v = item.substr(eq + 1);
    if (k == "server") a.server = v, ++seen;
    if (k == "method") a.method = v, ++seen;
    if (k == "len") a.length = std::stoul(v), ++seen;
    if (k == "crc") a.crc = v, ++seen;
  }
  a.ok = seen == 4;
  return a;
}

std::string crc32_hex(const std::string& data) {
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char ch : data) {
    crc ^= ch;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", crc ^ 0xffffffffu);
  return buf;
}

int connections_in(std::uint16_t port, const std::string& state, bool either_end) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);
  auto port_of = [](const std::string& a) {
    auto colon = a.find(':');
    return colon == std::string::npos ? 0ul : std::stoul(a.substr(colon + 1), nullptr, 16);
  };
  int n = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, st;
    f >> slot >> local >> remote >> st;
    if (st == state && (port_of(local) == port || (either_end && port_of(remote) == port))) ++n;
  }
  return n;
}

}  // namespace fcgimux::test
