// SPDX-License-Identifier: ISC
#include "tests/support/nginx_instance.hpp"

#include "tests/support/paths.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <stdexcept>

namespace fcgimux::test {

namespace {

std::string address_of(const endpoint& e) {
  return e.is_unix() ? "unix:" + e.unix_path : e.host + ":" + std::to_string(e.port);
}

std::string make_config(const nginx_options& o, const std::string& prefix, std::uint16_t port) {
  std::string pass = address_of(o.upstream);
  std::string c;
  if (::geteuid() == 0) c += "user root;\n";
  c += "daemon off;\nmaster_process off;\nworker_processes 1;\n";
  c += "pid " + prefix + "/nginx.pid;\n";
  c += "error_log " + prefix + "/error.log info;\n";
  c += "events { worker_connections 4096; }\n";
  c += "http {\n";
  c += "  access_log off;\n";
  for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    c += "  " + std::string(t) + "_temp_path " + prefix + "/" + t + "_temp;\n";
  }
  c += "  client_max_body_size 64m;\n";
  c += "  keepalive_requests 100000;\n";
  if (o.keepalive) {
    c += "  upstream fcgi_backend {\n    server " + pass + ";\n";
    for (const auto& b : o.backups) c += "    server " + address_of(b) + " backup;\n";
    c += "    keepalive " + std::to_string(o.keepalive_connections) + ";\n  }\n";
  }
  c += "  server {\n    listen 127.0.0.1:" + std::to_string(port) + ";\n";
  c += "    location / {\n";
  for (const char* p :
       {"QUERY_STRING $query_string", "REQUEST_METHOD $request_method", "CONTENT_TYPE $content_type",
        "CONTENT_LENGTH $content_length", "SCRIPT_NAME $fastcgi_script_name", "REQUEST_URI $request_uri",
        "DOCUMENT_URI $document_uri", "DOCUMENT_ROOT $document_root", "SERVER_PROTOCOL $server_protocol",
        "REQUEST_SCHEME $scheme", "GATEWAY_INTERFACE CGI/1.1", "SERVER_SOFTWARE nginx", "REMOTE_ADDR $remote_addr",
        "REMOTE_PORT $remote_port", "SERVER_ADDR $server_addr", "SERVER_PORT $server_port", "SERVER_NAME $server_name",
        "REDIRECT_STATUS 200"}) {
    c += "      fastcgi_param " + std::string(p) + ";\n";
  }
  if (!o.script_filename.empty()) c += "      fastcgi_param SCRIPT_FILENAME " + o.script_filename + ";\n";
  if (o.keepalive) {
    c += "      fastcgi_pass fcgi_backend;\n      fastcgi_keep_conn on;\n";
  } else {
    c += "      fastcgi_pass " + pass + ";\n";
  }
  c += "      fastcgi_read_timeout 30s;\n";
  c += "    }\n  }\n}\n";
  return c;
}

}  // namespace

nginx_instance::nginx_instance(const nginx_options& options) : dir_("fcgimux-nginx") {
  port_ = free_tcp_port();
  write_file(dir_.file("nginx.conf"), make_config(options, dir_.path(), port_));
  spawn_options s;
  s.argv = {nginx_bin, "-p", dir_.path(), "-c", dir_.file("nginx.conf"), "-e", dir_.file("error.log")};
  s.stderr_path = dir_.file("stderr.log");
  process_ = child_process(s);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!wait_connectable(endpoint::tcp(port_), std::chrono::milliseconds(100))) {
    if (!process_.running() || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("nginx did not start: " + error_log() + process_.stderr_text());
    }
  }
}

std::string nginx_instance::error_log() const { return read_file(dir_.file("error.log")); }

std::string nginx_instance::config() const { return read_file(dir_.file("nginx.conf")); }

}  // namespace fcgimux::test
