// SPDX-License-Identifier: ISC
// Request bodies larger than --body-buffer stream to the worker while the front still sends them.
// Each must be answered, with its own body, however the worker's answer and the last body write
// interleave, and whether or not the worker it first went to is retiring.

#include "backends.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using fcgimux::proto::flag_keep_conn;

namespace {

// CRC-32 (IEEE 802.3), as PHP's crc32() computes it.
std::uint32_t crc32_of(std::string_view data) {
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char ch : data) {
    crc ^= ch;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// A script that reads the whole body and answers with a few bytes that identify it: the answer
// comes back as soon as the last body byte has been read, the moment the race needs.
backend php_summing_backend(const temp_dir& dir) {
  backend b = php_backend(dir);
  b.script_filename = dir.file("sum.php");
  write_file(b.script_filename, "<?php $b = file_get_contents('php://input'); echo strlen($b), ' ', crc32($b);\n");
  return b;
}

std::string summary_of(const std::string& body) {
  return std::to_string(body.size()) + " " + std::to_string(crc32_of(body));
}

struct upload_outcome {
  int ok = 0;
  std::vector<std::string> failures;
};

// `clients` threads, each on one kept connection, post `per_client` distinct random bodies of
// `size` bytes to the echo script and check each answer. A connection that fails is replaced.
upload_outcome post_concurrently(const fcgimux_instance& mux, const backend& b, int clients, int per_client,
                                 std::size_t size, bool summed) {
  upload_outcome out;
  std::mutex m;
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto c = std::make_unique<fcgi_client>(mux.address());
      for (int i = 0; i < per_client; ++i) {
        std::string body = random_bytes(size, static_cast<std::uint64_t>(t * 1000 + i + 1));
        auto status = c->exchange(backend_request(b, "POST", "/echo", body, flag_keep_conn), 20s);
        std::string why;
        if (status != read_status::ok) {
          why = std::string("no answer: ") + to_string(status);
        } else {
          cgi_response r = parse_cgi_response(c->response(1).out);
          if (r.status != 200)
            why = "status " + std::to_string(r.status);
          else if (summed ? r.body != summary_of(body) : r.body != body)
            why = summed ? "wrong summary " + r.body + ", expected " + summary_of(body)
                         : "wrong body, first difference at " + std::to_string(first_difference(r.body, body));
        }
        std::lock_guard lock(m);
        if (why.empty()) {
          ++out.ok;
          c->response(1) = {};
        } else {
          out.failures.push_back("client " + std::to_string(t) + " upload " + std::to_string(i) + ": " + why);
          c = std::make_unique<fcgi_client>(mux.address());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  return out;
}

// nginx's [error] lines (its log also has a [warn] line for every body it buffered to a file).
std::string errors_in(const std::string& log) {
  std::string out;
  std::size_t start = 0;
  while (start < log.size()) {
    auto end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    auto line = log.substr(start, end - start);
    if (line.find("[error]") != std::string::npos) out += line + "\n";
    start = end + 1;
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += x + "\n";
  return s;
}

}  // namespace

TEST_CASE("many concurrent streamed uploads to php-cgi are all answered with their own body", "[hardening][upload]") {
  // A 1 MiB body past a 256 KiB --body-buffer streams; the worker answers as soon as it has read
  // the last byte, often in the same loop turn as the completion of fcgimux's last STDIN write.
  temp_dir dir;
  backend b = php_summing_backend(dir);
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "4", "--body-buffer", "262144", "--stats", "127.0.0.1:0"}));
  auto out = post_concurrently(mux, b, 10, 40, 1024 * 1024, true);
  INFO(joined(out.failures) << "fcgimux stderr:\n" << mux.stderr_text());
  CHECK(out.failures.empty());
  CHECK(out.ok == 10 * 40);
  // No request or worker is left behind once every answer is in.
  CHECK(eventually(
      [&] {
        auto s = stats_of(mux);
        return s["pool"]["busy"] == 0 && s["requests"]["active"] == 0;
      },
      5s));
}

TEST_CASE("a streamed upload meeting a retiring php-cgi is sent to another worker, not failed", "[hardening][upload]") {
  // php-cgi exits after PHP_FCGI_MAX_REQUESTS: the next request on its kept connection fails at
  // once with EPIPE. No byte of that request was read, so it must be resent, body and all.
  temp_dir dir;
  backend b = php_backend(dir);
  b.env.push_back("PHP_FCGI_MAX_REQUESTS=2");
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "2", "--body-buffer", "65536", "--stats", "127.0.0.1:0"}));
  auto out = post_concurrently(mux, b, 4, 30, 200 * 1024, false);
  INFO(joined(out.failures) << "fcgimux stderr:\n" << mux.stderr_text());
  CHECK(out.failures.empty());
  CHECK(out.ok == 4 * 30);
  auto s = stats_of(mux);
  CHECK(s["requests"]["failed"] == 0);
  // The workers did retire all along (two requests each), so the retiring case was met.
  CHECK(s["workers_spawned"].get<int>() >= 4 * 30 / 2);
}

TEST_CASE("streamed uploads through nginx with keep-alive are all answered", "[hardening][upload][nginx]") {
  // The setup the bug was found with: nginx buffers each 2 MiB body and sends it in 32 KiB
  // records over kept connections; fcgimux streams what passes its 1 MiB --body-buffer.
  temp_dir dir;
  backend b = php_summing_backend(dir);
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "4", "--stats", "127.0.0.1:0"}));
  nginx_options o;
  o.upstream = mux.address();
  o.keepalive = true;
  o.script_filename = b.script_filename;
  nginx_instance nginx(o);
  std::mutex m;
  std::vector<std::string> failures;
  int ok = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&, t] {
      http_connection c(nginx.port());
      for (int i = 0; i < 40; ++i) {
        std::string body = random_bytes(2u << 20, static_cast<std::uint64_t>(t * 1000 + i + 7));
        auto r = c.request("POST", "/sum", body, 20s);
        std::lock_guard lock(m);
        if (r.ok && r.status == 200 && r.body == summary_of(body))
          ++ok;
        else
          failures.push_back("client " + std::to_string(t) + " upload " + std::to_string(i) + ": " +
                             (r.ok ? "status " + std::to_string(r.status) + " " + r.body.substr(0, 80) : r.error));
      }
    });
  }
  for (auto& th : threads) th.join();
  INFO(joined(failures) << "nginx errors:\n"
                        << errors_in(nginx.error_log()) << "fcgimux stderr:\n"
                        << mux.stderr_text());
  CHECK(failures.empty());
  CHECK(ok == 10 * 40);
  CHECK(eventually(
      [&] {
        auto s = stats_of(mux);
        return s["pool"]["busy"] == 0 && s["requests"]["active"] == 0;
      },
      5s));
}
