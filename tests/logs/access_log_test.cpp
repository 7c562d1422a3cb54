// SPDX-License-Identifier: ISC
// --access-log and --access-format with the real binary: the exact line of known requests (a GET
// with a query, a POST, a worker's 404, php-cgi's 404, fcgimux's own 503 and 504, a client that
// left), the default format, nginx in front, stdout, a reload that moves the file, and a log that
// cannot be written: requests are still answered, and every line is either written or counted.

#include "backends.hpp"
#include "logs_support.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/pools/pools_support.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <fstream>
#include <regex>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

const std::string exact_format = "%m|%r|%q|%Q|%s|%p|%n|%R|%u|%l|%{HTTP_X_TAG}e|%%";

}  // namespace

TEST_CASE("access log: the exact line of known requests, and of fcgimux's own 503 and 504", "[logs][access]") {
  temp_dir dir;
  const std::string log = dir.file("access.log");
  fcgimux_instance mux(demo_pool({"-n", "1", "--access-log", log, "--access-format", exact_format, "--queue-timeout",
                                  "0.3", "--request-timeout", "1"}));
  REQUIRE(mux.wait_for_workers(1, 10s));
  const std::string pid = std::to_string(mux.worker_pids().at(0));
  std::vector<std::string> expected;

  auto a = send_request(mux.port(), "GET", "/app/page?x=1&y=two", {{"HTTP_X_TAG", "t1"}, {"REMOTE_USER", "alice"}});
  REQUIRE(a.how == read_status::ok);
  CHECK(a.response.status == 200);
  expected.push_back("GET|/app/page|x=1&y=two|?|200|" + pid + "|default|127.0.0.1|alice|0|t1|%");

  a = send_request(mux.port(), "POST", "/submit", {{"REMOTE_ADDR", "192.0.2.7"}}, "hello");
  REQUIRE(a.how == read_status::ok);
  expected.push_back("POST|/submit|||200|" + pid + "|default|192.0.2.7|-|5|-|%");

  a = send_request(mux.port(), "GET", "/missing?status=404");
  REQUIRE(a.how == read_status::ok);
  CHECK(a.response.status == 404);
  expected.push_back("GET|/missing|status=404|?|404|" + pid + "|default|127.0.0.1|-|0|-|%");

  // A client's quote and newline are escaped, not written.
  a = send_request(mux.port(), "GET", "/q", {{"REQUEST_URI", "/q\"x\ny"}});
  REQUIRE(a.how == read_status::ok);
  expected.push_back("GET|/q\\x22x\\x0Ay|||200|" + pid + "|default|127.0.0.1|-|0|-|%");
  CHECK(wait_for_lines(log, expected.size()) == expected);

  // One worker busy for 3 s: a second request waits 0.3 s and gets fcgimux's 503 (no worker
  // served it); the first is cut at --request-timeout 1 with fcgimux's 504.
  std::thread slow([&] {
    auto s = send_request(mux.port(), "GET", "/slow?sleep_ms=3000");
    CHECK(s.response.status == 504);
  });
  std::this_thread::sleep_for(200ms);
  a = send_request(mux.port(), "GET", "/queued");
  CHECK(a.response.status == 503);
  slow.join();
  expected.push_back("GET|/queued|||503|-|default|127.0.0.1|-|0|-|%");
  expected.push_back("GET|/slow|sleep_ms=3000|?|504|" + pid + "|default|127.0.0.1|-|0|-|%");

  // A client that leaves before its answer: 499, as nginx logs it.
  REQUIRE(mux.wait_for_workers(1, 10s));
  {
    fcgi_client c(mux.address());
    request_spec r;
    r.params = cgi_params("GET", "/gone?sleep_ms=300");
    c.send_request(r);
    REQUIRE(c.flush());
    // On a loaded machine the request may still be in the queue 100 ms later: first it must be
    // at the worker. The 100 ms after that let the worker start on it, so the line names its pid
    // (a front gone within a few ms of the handout is logged without one).
    REQUIRE(eventually(
        [&] {
          const auto page = http_request(mux.stats_port(), "GET", "/stats");
          return page.status == 200 && nlohmann::json::parse(page.body)["pool"]["busy"] == 1;
        },
        30s));
    std::this_thread::sleep_for(100ms);
  }
  auto lines = wait_for_lines(log, expected.size() + 1);
  INFO("fcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(lines.size() == expected.size() + 1);
  CHECK(std::vector<std::string>(lines.begin(), lines.end() - 1) == expected);
  const std::string last = lines.back();
  const std::string new_pid = std::to_string(mux.worker_pids().at(0));
  CHECK(last == "GET|/gone|sleep_ms=300|?|499|" + new_pid + "|default|127.0.0.1|-|0|-|%");
}

TEST_CASE("access log: the default format", "[logs][access]") {
  temp_dir dir;
  const std::string log = dir.file("access.log");
  fcgimux_instance mux(demo_pool({"-n", "1", "--access-log", log}));
  REQUIRE(mux.wait_for_workers(1, 10s));
  const std::string pid = std::to_string(mux.worker_pids().at(0));
  const std::time_t before = std::time(nullptr);
  auto a = send_request(mux.port(), "GET", "/a/b?sleep_ms=250&c=d", {{"REMOTE_ADDR", "203.0.113.9"}});
  REQUIRE(a.how == read_status::ok);
  auto lines = wait_for_lines(log, 1);
  REQUIRE(lines.size() == 1);
  INFO(lines[0]);
  // %R - %u [%t] "%m %r%Q%q" %s %d %n %p
  std::smatch m;
  REQUIRE(std::regex_match(lines[0], m,
                           std::regex(R"(203\.0\.113\.9 - - \[([^\]]+)\] "GET /a/b\?sleep_ms=250&c=d" 200 )"
                                      R"((\d+\.\d{3}) default (\d+))")));
  CHECK(m[3] == pid);
  const double seconds = std::stod(m[2]);
  CHECK(seconds >= 0.25);
  CHECK(seconds < 5);
  std::tm tm{};
  REQUIRE(::strptime(m[1].str().c_str(), "%d/%b/%Y:%H:%M:%S %z", &tm) != nullptr);
  const std::time_t logged = ::timegm(&tm) - tm.tm_gmtoff;
  CHECK(logged >= before - 1);
  CHECK(logged <= std::time(nullptr) + 1);
}

TEST_CASE("access log: php-cgi's 404, and nginx in front", "[logs][access][nginx]") {
  temp_dir dir;
  backend php = php_backend(dir);
  const std::string log = dir.file("access.log");
  fcgimux_instance mux(behind_fcgimux(
      php, {"-n", "2", "--access-log", log, "--access-format", "%R \"%m %r%Q%q\" %s %l %n %{SCRIPT_FILENAME}e"}));
  REQUIRE(mux.wait_for_workers(2, 10s));
  // php-cgi answers "Status: 404 Not Found" for a script that does not exist.
  auto a = send_request(mux.port(), "GET", "/nothing.php?a=1", {{"SCRIPT_FILENAME", dir.file("nothing.php")}});
  REQUIRE(a.how == read_status::ok);
  CHECK(a.response.status == 404);

  nginx_options o;
  o.upstream = mux.address();
  o.keepalive = true;
  o.script_filename = php.script_filename;
  nginx_instance nginx(o);
  auto g = http_request(nginx.port(), "GET", "/shop/item.php?id=42&x=%22q%22");
  REQUIRE(g.ok);
  CHECK(g.status == 200);
  auto p = http_request(nginx.port(), "POST", "/form", "name=value&n=2");
  REQUIRE(p.ok);
  CHECK(p.body == "name=value&n=2");

  const std::vector<std::string> expected = {
      "127.0.0.1 \"GET /nothing.php?a=1\" 404 0 default " + dir.file("nothing.php"),
      "127.0.0.1 \"GET /shop/item.php?id=42&x=%22q%22\" 200 0 default " + php.script_filename,
      "127.0.0.1 \"POST /form\" 200 14 default " + php.script_filename,
  };
  INFO("nginx error log:\n" << nginx.error_log() << "\nfcgimux stderr:\n" << mux.stderr_text());
  CHECK(wait_for_lines(log, 3) == expected);
}

TEST_CASE("access log: '-' writes to stdout and off writes nothing", "[logs][access]") {
  logged_fcgimux::options o;
  o.args = {"-n", "1", "--access-log", "-", "--access-format", "%m %r %s"};
  o.command = {demo_bin};
  logged_fcgimux mux(o);
  REQUIRE(send_request(mux.port(), "GET", "/one").how == read_status::ok);
  REQUIRE(send_request(mux.port(), "GET", "/two?status=500").how == read_status::ok);
  auto st = mux.stop();
  CHECK(st.exited);
  CHECK(st.code == 0);
  CHECK(mux.stdout_text() == "GET /one 200\nGET /two 500\n");

  logged_fcgimux::options off;
  off.args = {"-n", "1"};
  off.command = {demo_bin};
  logged_fcgimux quiet(off);
  REQUIRE(send_request(quiet.port(), "GET", "/one").how == read_status::ok);
  quiet.stop();
  CHECK(quiet.stdout_text().empty());
}

TEST_CASE("access log: a bad format or path stops fcgimux at start with one line", "[logs][access]") {
  auto r = run_fcgimux({"--access-format", "%m %Z", "--", demo_bin}, 5s);
  REQUIRE(r.finished);
  CHECK(r.status.code == 2);
  CHECK(r.stderr_text == "fcgimux: error: access-format: unknown token %Z\n");

  r = run_fcgimux(
      {"--listen", "127.0.0.1:0", "--stats", "off", "--access-log", "/nonexistent-dir/access.log", "--", demo_bin}, 5s);
  REQUIRE(r.finished);
  CHECK(r.status.code == 1);
  CHECK(r.stderr_text ==
        "fcgimux: error: pool \"default\": access-log: cannot open /nonexistent-dir/access.log: No such file or "
        "directory\n");
}

TEST_CASE("access log: SIGHUP moves a pool's access log and a path that cannot be opened refuses the reload",
          "[logs][access][reload]") {
  temp_dir dir;
  const std::string first = dir.file("first.log"), second = dir.file("second.log");
  nlohmann::json config = {{"access-format", "%n %r"},
                           {"access-log", first},
                           {"pools", {{{"name", "www"}, {"workers", 1}, {"command", {demo_bin}}}}}};
  pools_instance mux(config);
  REQUIRE(send_request(mux.port("www"), "GET", "/a").how == read_status::ok);
  CHECK(wait_for_lines(first, 1) == std::vector<std::string>{"www /a"});

  auto reload = [&](const nlohmann::json& c, const std::string& wait_for) {
    const std::size_t seen = mux.stderr_text().size();
    nlohmann::json full = c;
    full["stats"] = "127.0.0.1:0";
    full["pools"][0]["listen"] = "127.0.0.1:0";
    std::ofstream(mux.config_path()) << full.dump(2);
    mux.mux().process().send_signal(SIGHUP);
    return eventually([&] { return mux.stderr_text().find(wait_for, seen) != std::string::npos; }, 10s);
  };
  config["access-log"] = second;
  REQUIRE(reload(config, "configuration reloaded"));
  REQUIRE(send_request(mux.port("www"), "GET", "/b").how == read_status::ok);
  CHECK(wait_for_lines(second, 1) == std::vector<std::string>{"www /b"});

  config["access-log"] = dir.file("missing-dir/third.log");
  REQUIRE(reload(config, "reload failed"));
  INFO(mux.stderr_text());
  CHECK(mux.stderr_text().find("reload failed: pool \"www\": access-log: cannot open " +
                               dir.file("missing-dir/third.log") +
                               ": No such file or directory; the running configuration is kept") != std::string::npos);
  REQUIRE(send_request(mux.port("www"), "GET", "/c").how == read_status::ok);
  CHECK(wait_for_lines(second, 2) == std::vector<std::string>{"www /b", "www /c"});
  CHECK(file_lines(first) == std::vector<std::string>{"www /a"});
}

TEST_CASE("access log: a log nobody reads never holds a request and each line is written or counted as dropped",
          "[logs][access]") {
  temp_dir dir;
  const std::string fifo = dir.file("access.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Our end is open (so fcgimux's open does not wait for a reader) and not read for now: once the
  // pipe's 64 KiB are full, every write of the writer thread blocks.
  int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(rd >= 0);
  fcgimux_instance mux(demo_pool({"-n", "2", "--access-log", fifo, "--access-format", "%q %{HTTP_X_PAD}e"}));
  const std::string pad(4000, 'p');  // ~4 KiB a line: 4 MiB of queue is reached after ~1000 requests
  constexpr int requests = 2000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < requests; ++i) {
    auto a = send_request(mux.port(), "GET", "/?n=" + std::to_string(i), {{"HTTP_X_PAD", pad}}, {}, 5s);
    REQUIRE(a.how == read_status::ok);
    REQUIRE(a.response.status == 200);
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(took < 60);
  // The drops are reported while it runs (at most once a second), not only at the end.
  REQUIRE(eventually([&] { return mux.stderr_text().find("lines dropped") != std::string::npos; }, 5s));
  // And counted in the stats as each request ends: every request has ended, so every drop is there.
  nlohmann::json s = stats_of(mux);
  const nlohmann::json in_stats = s["pools"]["default"]["access_log"]["dropped"];
  CHECK(in_stats.is_number_unsigned());
  const std::uint64_t dropped_in_stats = in_stats.is_number_unsigned() ? in_stats.get<std::uint64_t>() : 0;
  CHECK(s["access_log"]["dropped"] == dropped_in_stats);
  const std::string metrics = http_request(mux.stats_port(), "GET", "/metrics").body;
  CHECK(metrics.find("fcgimux_access_log_dropped_total{pool=\"default\"} " + std::to_string(dropped_in_stats) + "\n") !=
        std::string::npos);

  // Now read everything, stop fcgimux: what was queued is written before it exits.
  std::string got;
  std::thread reader([&] {
    ::fcntl(rd, F_SETFL, 0);
    char buf[65536];
    for (ssize_t n; (n = ::read(rd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  });
  mux.process().send_signal(SIGTERM);
  auto st = mux.process().wait_exit(20s);
  reader.join();
  ::close(rd);
  REQUIRE(st);
  CHECK(st->exited);

  std::size_t written = 0;
  int last = -1;
  bool ordered = true;
  for (std::size_t start = 0, nl; (nl = got.find('\n', start)) != std::string::npos; start = nl + 1) {
    ++written;
    int n = std::stoi(got.substr(start + 2, got.find(' ', start) - start - 2));
    ordered = ordered && n > last;
    last = n;
  }
  std::size_t dropped = 0;
  const std::string err = mux.stderr_text();
  const std::regex report(literally(fifo) + R"(: (\d+) lines dropped: the writer could not keep up)");
  for (auto it = std::sregex_iterator(err.begin(), err.end(), report); it != std::sregex_iterator(); ++it)
    dropped += std::stoul((*it)[1]);
  INFO("written " << written << ", dropped " << dropped << "\nstderr:\n" << err);
  CHECK(dropped > 0);
  CHECK(written > 0);
  CHECK(ordered);
  CHECK(written + dropped == requests);
  CHECK(dropped_in_stats == dropped);
}
