// SPDX-License-Identifier: ISC
#include "backends.hpp"

#include "tests/support/paths.hpp"

#include <stdexcept>

namespace fcgimux::test {

backend demo_backend() { return backend{"demo", {demo_bin}, {}, {}}; }

backend php_backend(const temp_dir& dir) {
  std::string script = dir.file("echo.php");
  write_file(script, read_file(std::string(INTEGRATION_SCRIPTS_DIR) + "/echo.php"));
  // One process per worker (no php-cgi children); bodies up to the 10 MiB tests use.
  return backend{
      "php-cgi", {php_cgi_bin, "-d", "post_max_size=64M", "-d", "memory_limit=256M"}, {"PHP_FCGI_CHILDREN=0"}, script};
}

backend fcgiwrap_backend(const temp_dir& dir) {
  std::string script = dir.file("echo.cgi");
  write_file(script, read_file(std::string(INTEGRATION_SCRIPTS_DIR) + "/echo.cgi"), true);
  return backend{"fcgiwrap", {fcgiwrap_bin}, {}, script};
}

backend backend_named(const std::string& name, const temp_dir& dir) {
  if (name == "demo") return demo_backend();
  if (name == "php-cgi") return php_backend(dir);
  if (name == "fcgiwrap") return fcgiwrap_backend(dir);
  throw std::invalid_argument("unknown backend " + name);
}

fcgi_params backend_params(const backend& b, const std::string& method, const std::string& uri,
                           std::size_t content_length) {
  fcgi_params p = cgi_params(method, uri, content_length);
  if (!b.script_filename.empty()) p.emplace_back("SCRIPT_FILENAME", b.script_filename);
  return p;
}

request_spec backend_request(const backend& b, const std::string& method, const std::string& uri,
                             const std::string& body, std::uint8_t flags) {
  request_spec r;
  r.flags = flags;
  r.params = backend_params(b, method, uri, body.size());
  r.body = body;
  return r;
}

fcgimux_options behind_fcgimux(const backend& b, std::vector<std::string> args) {
  fcgimux_options o;
  bool has_stats = false;
  for (const auto& a : args) has_stats = has_stats || a == "--stats";
  if (!has_stats) {
    args.push_back("--stats");
    args.push_back("off");
  }
  o.args = std::move(args);
  o.command = b.command;
  o.env = b.env;
  return o;
}

}  // namespace fcgimux::test
