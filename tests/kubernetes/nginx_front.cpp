// SPDX-License-Identifier: ISC
#include "tests/kubernetes/nginx_front.hpp"

#include "tests/support/net.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/run_program.hpp"

#include <unistd.h>

#include <csignal>

#include <chrono>
#include <stdexcept>

namespace fcgimux::test {

using namespace std::chrono_literals;

nginx_front::nginx_front(const std::vector<std::uint16_t>& members) : dir_("fcgimux-k8s-nginx") {
  port_ = free_tcp_port();
  write_config(members);
  spawn_options s;
  s.argv = {nginx_bin, "-p", dir_.path(), "-c", dir_.file("nginx.conf"), "-e", dir_.file("error.log")};
  s.stderr_path = dir_.file("stderr.log");
  process_ = child_process(s);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!wait_connectable(endpoint::tcp(port_), 100ms))
    if (!process_.running() || std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("nginx did not start: " + error_log() + process_.stderr_text());
}

nginx_front::~nginx_front() {
  // SIGQUIT: a graceful stop of the master and its workers (SIGTERM would cut requests).
  process_.send_signal(SIGQUIT);
  if (!process_.wait_exit(10s)) process_.stop();
}

void nginx_front::write_config(const std::vector<std::uint16_t>& members) {
  const std::string prefix = dir_.path();
  std::string c;
  if (::geteuid() == 0) c += "user root;\n";
  c += "daemon off;\nmaster_process on;\nworker_processes 1;\n";
  c += "pid " + prefix + "/nginx.pid;\nerror_log " + prefix + "/error.log info;\n";
  c += "events { worker_connections 4096; }\nhttp {\n  access_log off;\n";
  for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    c += "  " + std::string(t) + "_temp_path " + prefix + "/" + t + "_temp;\n";
  c += "  upstream fcgimux {\n";
  // An empty upstream is not valid; with no member ready, nginx answers 502 from a closed port.
  if (members.empty()) c += "    server 127.0.0.1:1 max_fails=0;\n";
  for (std::uint16_t m : members) c += "    server 127.0.0.1:" + std::to_string(m) + " max_fails=0;\n";
  c += "    keepalive 16;\n  }\n";
  c += "  server {\n    listen 127.0.0.1:" + std::to_string(port_) + ";\n    location / {\n";
  c += "      fastcgi_param REQUEST_METHOD $request_method;\n      fastcgi_param REQUEST_URI $request_uri;\n";
  c += "      fastcgi_param SCRIPT_NAME $fastcgi_script_name;\n      fastcgi_param QUERY_STRING $query_string;\n";
  c += "      fastcgi_param SERVER_PROTOCOL $server_protocol;\n";
  c += "      fastcgi_pass fcgimux;\n      fastcgi_keep_conn on;\n      fastcgi_next_upstream off;\n";
  c += "      fastcgi_read_timeout 30s;\n    }\n  }\n}\n";
  write_file(dir_.file("nginx.conf"), c);
}

bool nginx_front::set_members(const std::vector<std::uint16_t>& members) {
  write_config(members);
  const child_result r =
      run_child({nginx_bin, "-p", dir_.path(), "-c", dir_.file("nginx.conf"), "-e", dir_.file("error.log"), "-s",
                 "reload"},
                10s);
  return r.started && !r.timed_out && r.exit_code == 0;
}

std::string nginx_front::error_log() const { return read_file(dir_.file("error.log")); }

}  // namespace fcgimux::test
