// SPDX-License-Identifier: ISC
#include "logs_support.hpp"

#include "tests/pools/pools_support.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/paths.hpp"

#include <csignal>
#include <regex>
#include <stdexcept>
#include <thread>

namespace fcgimux::test {

std::vector<std::string> file_lines(const std::string& path) {
  std::vector<std::string> out;
  const std::string text = read_file(path);
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  return out;
}

std::vector<std::string> wait_for_lines(const std::string& path, std::size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto lines = file_lines(path);
    if (lines.size() >= n || std::chrono::steady_clock::now() > deadline) return lines;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string literally(const std::string& text) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, special, R"(\$&)");
}

answer send_request(std::uint16_t port, const std::string& method, const std::string& uri, const fcgi_params& extra,
                    const std::string& body, std::chrono::milliseconds timeout) {
  answer out;
  fcgi_client c(endpoint::tcp(port));
  if (!c.connected()) {
    out.how = read_status::closed;
    return out;
  }
  request_spec r;
  r.params = cgi_params(method, uri, body.size());
  for (const auto& [name, value] : extra) {
    bool replaced = false;
    for (auto& p : r.params)
      if (p.first == name) {
        p.second = value;
        replaced = true;
      }
    if (!replaced) r.params.emplace_back(name, value);
  }
  r.body = body;
  out.how = c.exchange(r, timeout);
  out.response = parse_cgi_response(c.response(1).out);
  return out;
}

logged_fcgimux::logged_fcgimux(const options& o) : dir_("fcgimux-logs") {
  spawn_options s;
  s.argv = o.prefix;
  s.argv.push_back(fcgimux_bin);
  for (auto& a : root_user_args(o.args)) s.argv.push_back(a);
  if (o.listen)
    for (const char* a : {"--listen", "127.0.0.1:0"}) s.argv.push_back(a);
  for (const char* a : {"--stats", "off"}) s.argv.push_back(a);
  s.argv.insert(s.argv.end(), o.args.begin(), o.args.end());
  if (!o.command.empty()) {
    s.argv.push_back("--");
    s.argv.insert(s.argv.end(), o.command.begin(), o.command.end());
  }
  s.env = o.env;
  s.stderr_path = dir_.file("stderr");
  s.stdout_path = dir_.file("stdout");
  process_ = child_process(s);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const std::string text = o.error_log.empty() ? process_.stderr_text() : read_file(o.error_log);
    port_ = pool_listening_port(text, o.pool);
    if (port_ != 0) return;
    if (!process_.running() || std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("fcgimux did not log where it listens; its log:\n" + text + "\nstderr:\n" +
                               process_.stderr_text());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string logged_fcgimux::stdout_text() const { return read_file(dir_.file("stdout")); }

exit_status logged_fcgimux::stop() {
  process_.send_signal(SIGTERM);
  if (auto st = process_.wait_exit(std::chrono::seconds(20))) return *st;
  throw std::runtime_error("fcgimux did not stop within 20 s of SIGTERM");
}

}  // namespace fcgimux::test
