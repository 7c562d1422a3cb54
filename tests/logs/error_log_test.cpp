// SPDX-License-Identifier: ISC
// --error-log: fcgimux's own lines and its workers' stderr, each with a level, to a file, to stderr
// (with the journal's "<N>" prefixes when $JOURNAL_STREAM names it) and to syslog.

#include "logs_support.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/pools/pools_support.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/net.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/unique_fd.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <regex>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("error log to a file: fcgimux's lines with their level, and each worker's stderr with its pool and pid",
          "[logs][error-log]") {
  temp_dir dir;
  const std::string errors = dir.file("error.log"), config = dir.file("pools.json");
  nlohmann::json pools = {{"pools",
                           {{{"name", "www"}, {"listen", "127.0.0.1:0"}, {"workers", 1}, {"command", {demo_bin}}},
                            {{"name", "api"}, {"listen", "127.0.0.1:0"}, {"workers", 1}, {"command", {demo_bin}}}}}};
  std::ofstream(config) << pools.dump();
  logged_fcgimux::options o;
  o.listen = false;
  o.args = {"-c", config, "--error-log", errors, "--verbose"};
  o.error_log = errors;
  o.pool = "api";
  logged_fcgimux mux(o);
  const std::string me = "fcgimux[" + std::to_string(mux.process().pid()) + "]: ";

  REQUIRE(send_request(mux.port(), "GET", "/?stderr=said+by+api").how == read_status::ok);
  const std::regex worker_line(R"(\[warning\] fcgimux\[\d+\]: worker (\d+) \(pool api\): fcgimux-demo\[(\d+)\]: )"
                               R"(said by api)");
  std::smatch m;
  std::string so_far;
  REQUIRE(eventually(
      [&] {
        so_far = read_file(errors);
        return std::regex_search(so_far, m, worker_line);
      },
      5s));
  CHECK(m[1] == m[2]);  // the pid fcgimux names is the one the worker itself printed

  // A refused reload is an error.
  std::ofstream(config) << "{ not json";
  mux.process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return read_file(errors).find("reload failed") != std::string::npos; }, 5s));
  auto st = mux.stop();
  CHECK(st.exited);

  const std::string text = read_file(errors);
  INFO(text);
  // "2024-05-01 12:00:00.123 [info] fcgimux[PID]: listening on 127.0.0.1:PORT for pool www"
  CHECK(std::regex_search(text, std::regex(R"((^|\n)\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[info\] )" + literally(me) +
                                           R"(listening on 127\.0\.0\.1:\d+ for pool www\n)")));
  CHECK(count_of(text, "[error] " + me + "reload failed: config: ") == 1);
  CHECK(count_of(text, "[debug] " + me + "worker ") >= 2);  // --verbose: "worker N started"
  CHECK(count_of(text, "[notice] " + me + "SIGTERM: finishing 0 requests in flight, then stopping\n") == 1);
  CHECK(count_of(text, "[notice] " + me + "stopped\n") == 1);
  // Every line is a whole line of the file, and nothing went to stderr.
  for (const auto& line : file_lines(errors))
    CHECK(std::regex_match(
        line,
        std::regex(
            R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[(error|warning|notice|info|debug)\] fcgimux\[\d+\]: .*)")));
  CHECK(mux.stderr_text().empty());
}

TEST_CASE("error log: a file that cannot be opened stops fcgimux at start", "[logs][error-log]") {
  auto r = run_fcgimux({"--error-log", "/nonexistent-dir/error.log", "--", demo_bin}, 5s);
  REQUIRE(r.finished);
  CHECK(r.status.code == 1);
  CHECK(r.stderr_text ==
        "fcgimux: error: error-log: cannot open /nonexistent-dir/error.log: No such file or directory\n");
}

TEST_CASE("stderr under systemd: each line starts with its <N> priority when JOURNAL_STREAM names stderr",
          "[logs][error-log][journal]") {
  temp_dir dir;
  auto run = [&](const std::string& stderr_file, const std::string& journal_stream) {
    spawn_options s;
    s.argv = {fcgimux_bin, "--listen", "127.0.0.1:0", "--stats", "off", "-n", "1"};
    for (auto& a : root_user_args({})) s.argv.push_back(a);
    s.argv.insert(s.argv.end(), {"--", demo_bin});
    s.env = {"JOURNAL_STREAM=" + journal_stream};
    s.stderr_path = stderr_file;
    child_process p(s);
    std::uint16_t port = 0;
    eventually(
        [&] {
          port = find_listening_port(read_file(stderr_file), "listening on 127.0.0.1:");
          return port != 0;
        },
        10s);
    REQUIRE(port != 0);
    REQUIRE(send_request(port, "GET", "/?stderr=to+the+journal").how == read_status::ok);
    eventually([&] { return read_file(stderr_file).find("to the journal") != std::string::npos; }, 5s);
    p.send_signal(SIGTERM);
    REQUIRE(p.wait_exit(20s));
    return read_file(stderr_file);
  };
  // systemd's JOURNAL_STREAM is DEVICE:INODE of the stream it gave: here, a file made beforehand.
  const std::string journal = dir.file("journal");
  write_file(journal, "");
  struct stat st {};
  REQUIRE(::stat(journal.c_str(), &st) == 0);
  const std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  const std::string text = run(journal, stream);
  INFO(text);
  CHECK(std::regex_search(text, std::regex(R"((^|\n)<6>listening on 127\.0\.0\.1:\d+ for pool default\n)")));
  CHECK(std::regex_search(text,
                          std::regex(R"(\n<4>worker \d+ \(pool default\): fcgimux-demo\[\d+\]: to the journal\n)")));
  CHECK(std::regex_search(text, std::regex(R"(\n<5>stopped\n$)")));
  for (const auto& line : file_lines(journal)) CHECK(std::regex_match(line, std::regex(R"(<[3-7]>.*)")));

  // Another stream (stderr redirected elsewhere under systemd): plain lines.
  const std::string plain = dir.file("plain");
  write_file(plain, "");
  const std::string other = run(plain, stream);
  CHECK(other.find("<6>") == std::string::npos);
  CHECK(other.find("fcgimux: listening on 127.0.0.1:") != std::string::npos);
  CHECK(other.find("fcgimux: worker ") != std::string::npos);
}

TEST_CASE("error log to syslog: the daemon facility, fcgimux's pid and each line's priority",
          "[logs][error-log][syslog]") {
  // glibc's syslog() always sends to /dev/log. To read what it sends without a syslog daemon (and
  // without touching the machine's /dev), fcgimux runs in a private mount namespace (unshare -m,
  // root) whose /dev is a directory holding this test's datagram socket as "log" and the device
  // nodes a process needs.
  if (::geteuid() != 0) {
    WARN("not root: cannot make a private /dev/log; skipped");
    return;
  }
  temp_dir dir;
  const std::string fake_dev = dir.file("dev");
  REQUIRE(::mkdir(fake_dev.c_str(), 0755) == 0);
  unique_fd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  REQUIRE(sock);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = fake_dev + "/log";
  REQUIRE(path.size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);

  const std::string script =
      "set -e; mount --make-rprivate /; "
      "for f in null zero random urandom; do : > \"$0/$f\"; mount --bind \"/dev/$f\" \"$0/$f\"; done; "
      "mount --bind \"$0\" /dev; exec \"$@\"";
  spawn_options s;
  s.argv = {"/usr/bin/unshare", "--mount",     "/bin/sh", "-c",  script,  fake_dev, fcgimux_bin,
            "--listen",         "127.0.0.1:0", "--stats", "off", "-n",    "1",      "--error-log",
            "syslog",           "--user",      "root",    "--",  demo_bin};  // the test needs root
  s.stderr_path = dir.file("stderr");
  child_process p(s);  // unshare and sh exec: p.pid() is fcgimux's pid

  std::vector<std::string> messages;
  auto receive_until = [&](const std::string& what) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& msg : messages)
        if (msg.find(what) != std::string::npos) return msg;
      pollfd pfd{sock.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char buf[8192];
      ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
      if (n > 0) messages.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return std::string();
  };
  const std::string me = " fcgimux[" + std::to_string(p.pid()) + "]: ";
  const std::string listening = receive_until("listening on 127.0.0.1:");
  INFO("stderr: " << read_file(dir.file("stderr")));
  REQUIRE(!listening.empty());
  // <30>: LOG_DAEMON (3 << 3) | LOG_INFO (6), then glibc's "Mmm dd hh:mm:ss", the ident and the pid.
  CHECK(std::regex_match(listening, std::regex(R"(<30>\w{3} [ \d]\d \d\d:\d\d:\d\d)" + literally(me) +
                                               R"(listening on 127\.0\.0\.1:\d+ for pool default)")));
  const auto port = find_listening_port(listening, "listening on 127.0.0.1:");
  REQUIRE(send_request(port, "GET", "/?stderr=to+syslog").how == read_status::ok);
  const std::string worker = receive_until("to syslog");
  CHECK(std::regex_match(worker, std::regex(R"(<28>.*)" + literally(me) +
                                            R"(worker \d+ \(pool default\): fcgimux-demo\[\d+\]: to syslog)")));
  p.send_signal(SIGTERM);
  const std::string stopped = receive_until("]: stopped");
  CHECK(std::regex_match(stopped, std::regex(R"(<29>.*)" + literally(me) + "stopped")));
  REQUIRE(p.wait_exit(20s));
  CHECK(read_file(dir.file("stderr")).empty());
}

TEST_CASE("error log: lines a full pipe could not take are counted in /stats and /metrics", "[logs][error-log]") {
  temp_dir dir;
  const std::string fifo = dir.file("error.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Our end is open (fcgimux's open does not fail for want of a reader) and never read: once the
  // pipe's 64 KiB and the writer's 4 MiB queue are full, every further line is dropped.
  unique_fd rd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  REQUIRE(rd.get() >= 0);
  const std::uint16_t port = free_tcp_port(), stats_port = free_tcp_port();
  spawn_options s;
  s.argv = {fcgimux_bin, "--listen", "127.0.0.1:" + std::to_string(port), "--stats",
            "127.0.0.1:" + std::to_string(stats_port), "--error-log", fifo, "-n", "2"};
  for (auto& a : root_user_args({})) s.argv.push_back(a);
  s.argv.insert(s.argv.end(), {"--", demo_bin});
  s.stderr_path = dir.file("stderr.txt");
  child_process p(s);
  REQUIRE(eventually([&] { return send_request(port, "GET", "/").how == read_status::ok; }, 10s));
  auto dropped = [&](const std::string& target) -> std::uint64_t {
    const std::string body = http_request(stats_port, "GET", target).body;
    if (target == "/stats") return nlohmann::json::parse(body)["error_log"]["dropped"].get<std::uint64_t>();
    const std::string name = "\nfcgimux_error_log_dropped_total ";
    const auto at = body.find(name);
    return at == std::string::npos ? 0 : std::stoull(body.substr(at + name.size()));
  };
  CHECK(dropped("/stats") == 0);
  // Each request has the worker write a 2000-byte stderr line: 3000 of them are 6 MB of log.
  const std::string text(2000, 'e');
  for (int i = 0; i < 3000; ++i) REQUIRE(send_request(port, "GET", "/?stderr=" + text).how == read_status::ok);
  const std::uint64_t in_stats = dropped("/stats");
  CHECK(in_stats > 0);
  CHECK(dropped("/metrics") >= in_stats);  // a drop report, itself dropped, may come between
  p.stop();
}
