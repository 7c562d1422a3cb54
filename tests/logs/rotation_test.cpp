// SPDX-License-Identifier: ISC
// SIGUSR1 as logrotate's postrotate sends it: the files are renamed, then fcgimux reopens them by
// path. Under steady traffic no access log line is lost or written twice, each new file gets the
// lines that come after, and a path that cannot be opened again keeps the old file.

#include "logs_support.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

TEST_CASE("SIGUSR1 after a rename: every request's line is in exactly one file, in order", "[logs][rotate]") {
  temp_dir dir;
  const std::string log = dir.file("access.log"), errors = dir.file("error.log");
  logged_fcgimux::options o;
  o.args = {"-n", "2", "--access-log", log, "--access-format", "%q %s", "--error-log", errors};
  o.command = {demo_bin};
  o.error_log = errors;
  logged_fcgimux mux(o);

  constexpr int clients = 4;
  std::atomic<bool> stop{false};
  std::vector<int> sent(clients, 0);
  std::mutex m;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        auto a = send_request(mux.port(), "GET", "/r?c=" + std::to_string(c) + "&i=" + std::to_string(i));
        if (a.how != read_status::ok || a.response.status != 200) {
          std::lock_guard l(m);
          failures.push_back("client " + std::to_string(c) + " request " + std::to_string(i));
          return;
        }
        sent[c] = i + 1;
      }
    });
  // Two rotations under traffic, as logrotate does them: rename, then signal.
  std::this_thread::sleep_for(400ms);
  REQUIRE(std::rename(log.c_str(), (log + ".1").c_str()) == 0);
  REQUIRE(std::rename(errors.c_str(), (errors + ".1").c_str()) == 0);
  mux.process().send_signal(SIGUSR1);
  std::this_thread::sleep_for(400ms);
  REQUIRE(std::rename(log.c_str(), (log + ".2").c_str()) == 0);
  mux.process().send_signal(SIGUSR1);
  std::this_thread::sleep_for(400ms);
  stop = true;
  for (auto& t : threads) t.join();
  // Everything queued is written before fcgimux exits.
  auto st = mux.stop();
  CHECK(st.exited);
  CHECK(st.code == 0);
  INFO("fcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(failures.empty());

  const std::vector<std::string> files = {log + ".1", log + ".2", log};
  std::map<int, int> next_of;  // client -> the next request number expected
  int total_sent = 0, total_lines = 0;
  for (int c = 0; c < clients; ++c) total_sent += sent[c];
  for (std::size_t f = 0; f < files.size(); ++f) {
    auto lines = file_lines(files[f]);
    INFO(files[f] << ": " << lines.size() << " lines");
    CHECK(lines.size() > 10);  // each file got a share of the traffic
    for (const auto& line : lines) {
      int c = -1, i = -1;
      REQUIRE(std::sscanf(line.c_str(), "c=%d&i=%d 200", &c, &i) == 2);
      // Each client's requests are sequential: its lines come in order, none missing or twice,
      // across the three files.
      CHECK(i == next_of[c]);
      next_of[c] = i + 1;
      ++total_lines;
    }
  }
  for (int c = 0; c < clients; ++c) CHECK(next_of[c] == sent[c]);
  CHECK(total_lines == total_sent);

  // The error log was reopened too: the old file ends before the new one starts. (Which file the
  // first "reopening" line itself lands in depends on when the writer thread takes it.)
  const std::string old_errors = read_file(errors + ".1"), new_errors = read_file(errors);
  const std::string me = "fcgimux[" + std::to_string(mux.process().pid()) + "]: ";
  auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
  };
  CHECK(old_errors.find("[info] " + me + "listening on 127.0.0.1:") != std::string::npos);
  CHECK(new_errors.find("listening on") == std::string::npos);
  CHECK(count(old_errors + new_errors, "[notice] " + me + "SIGUSR1: reopening 2 log files\n") == 2);
  CHECK(count(new_errors, "SIGUSR1: reopening 2 log files") >= 1);
  CHECK(new_errors.find("[notice] " + me + "stopped\n") != std::string::npos);
  CHECK(old_errors.find("stopped") == std::string::npos);
}

TEST_CASE("SIGUSR1 when a path cannot be opened again: the old file goes on, and the error log says why",
          "[logs][rotate]") {
  temp_dir dir;
  const std::string sub = dir.file("logs");
  REQUIRE(::mkdir(sub.c_str(), 0755) == 0);
  const std::string log = sub + "/access.log";
  logged_fcgimux::options o;
  o.args = {"-n", "1", "--access-log", log, "--access-format", "%r"};
  o.command = {demo_bin};
  logged_fcgimux mux(o);
  REQUIRE(send_request(mux.port(), "GET", "/before").how == read_status::ok);
  REQUIRE(wait_for_lines(log, 1).size() == 1);
  // The directory is moved away: the path cannot be created again.
  REQUIRE(std::rename(sub.c_str(), (sub + ".old").c_str()) == 0);
  mux.process().send_signal(SIGUSR1);
  REQUIRE(eventually([&] { return mux.stderr_text().find("cannot reopen") != std::string::npos; }, 5s));
  REQUIRE(send_request(mux.port(), "GET", "/after").how == read_status::ok);
  mux.stop();
  INFO(mux.stderr_text());
  CHECK(mux.stderr_text().find("fcgimux: cannot reopen " + log +
                               ": No such file or directory; still writing to the file it had open\n") !=
        std::string::npos);
  CHECK(file_lines(sub + ".old/access.log") == std::vector<std::string>{"/before", "/after"});
}
