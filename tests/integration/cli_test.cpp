// SPDX-License-Identifier: ISC
// Command line and configuration file errors: exit status 2 and one line naming the problem.

#include "backends.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <thread>

using namespace fcgimux::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream s(text);
  std::string line;
  while (std::getline(s, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// `named`: the line must mention one of these (case-insensitive).
void check_rejected(const std::vector<std::string>& args, const std::vector<std::string>& named) {
  fcgimux_run r = run_fcgimux(args, 5s);
  INFO("stderr:\n" << r.stderr_text << "stdout:\n" << r.stdout_text);
  REQUIRE(r.finished);
  CHECK(r.status.exited);
  CHECK(r.status.code == 2);
  auto lines = lines_of(r.stderr_text);
  CHECK(lines.size() == 1);
  bool mentioned = false;
  for (const auto& n : named) mentioned = mentioned || lower(r.stderr_text).find(lower(n)) != std::string::npos;
  CHECK(mentioned);
}

}  // namespace

TEST_CASE("bad flags exit with status 2 and one line naming the problem", "[proxy][cli]") {
  std::string demo = demo_bin;
  SECTION("unknown option") { check_rejected({"--bogus-flag", "--", demo}, {"--bogus-flag"}); }
  SECTION("non-numeric worker count") { check_rejected({"-n", "abc", "--", demo}, {"abc"}); }
  SECTION("bad --keep-conn value") { check_rejected({"--keep-conn", "maybe", "--", demo}, {"maybe"}); }
  SECTION("bad listen address") { check_rejected({"--listen", "not-an-address", "--", demo}, {"not-an-address"}); }
  SECTION("option without its value") { check_rejected({"--listen"}, {"--listen", "listen"}); }
  SECTION("no program") { check_rejected({"--listen", "127.0.0.1:0"}, {"program", "command"}); }
}

TEST_CASE("bad config files exit with status 2 and one line naming the problem", "[proxy][cli]") {
  temp_dir dir;
  std::string demo = demo_bin;
  SECTION("missing file") { check_rejected({"-c", dir.file("missing.json")}, {"missing.json"}); }
  SECTION("not JSON") {
    write_file(dir.file("broken.json"), "{\"workers\": 2,");
    check_rejected({"-c", dir.file("broken.json")}, {"broken.json"});
  }
  SECTION("unknown key") {
    write_file(dir.file("unknown.json"), "{\"listen\":[\"127.0.0.1:0\"],\"wrokers\":2,\"command\":[\"" + demo + "\"]}");
    check_rejected({"-c", dir.file("unknown.json")}, {"wrokers"});
  }
  SECTION("wrong type") {
    write_file(dir.file("type.json"),
               "{\"listen\":[\"127.0.0.1:0\"],\"workers\":\"many\",\"command\":[\"" + demo + "\"]}");
    check_rejected({"-c", dir.file("type.json")}, {"workers"});
  }
}

TEST_CASE("a valid config file starts fcgimux", "[proxy][cli]") {
  temp_dir dir;
  write_file(dir.file("ok.json"),
             "{\"listen\":[\"127.0.0.1:0\"],\"workers\":1,\"keep-conn\":\"no\",\"stats\":\"off\","
             "\"command\":[\"" +
                 std::string(demo_bin) + "\"]}");
  fcgimux_options o;
  o.args = {"-c", dir.file("ok.json")};
  o.listen_tcp = false;
  fcgimux_instance mux(o);
  // listen_tcp = false skips waiting: wait for the line here.
  std::uint16_t port = 0;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (port == 0 && std::chrono::steady_clock::now() < deadline) {
    port = find_listening_port(mux.stderr_text(), "listening on 127.0.0.1:");
    if (!mux.process().running()) break;
    std::this_thread::sleep_for(10ms);
  }
  INFO("stderr:\n" << mux.stderr_text());
  REQUIRE(port != 0);
  fcgi_client c(endpoint::tcp(port));
  REQUIRE_READ_OK(c.exchange(backend_request(demo_backend(), "GET", "/"), 10s), mux);
  CHECK(c.response(1).out.find("hello from pid ") != std::string::npos);
}
