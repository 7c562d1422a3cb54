// SPDX-License-Identifier: ISC
// A FastCGI worker for the front tests: appends a line to the file named by its argument for every
// BEGIN_REQUEST it receives (so a test can tell whether a request ever reached a worker), and
// answers each request "ok" once its STDIN ends. One connection at a time, as every real worker.

#include "proto/decoder.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace {

namespace proto = fcgimux::proto;

bool write_all(int fd, const std::string& s) {
  std::size_t at = 0;
  while (at < s.size()) {
    const ssize_t n = ::write(fd, s.data() + at, s.size() - at);
    if (n <= 0) return false;
    at += static_cast<std::size_t>(n);
  }
  return true;
}

void record(const char* file, const std::string& line) {
  if (std::FILE* f = std::fopen(file, "a")) {
    std::fputs(line.c_str(), f);
    std::fclose(f);
  }
}

void serve(int fd, const char* file) {
  proto::decoder dec;
  std::string params;
  bool keep = false;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    std::string_view in(buf, static_cast<std::size_t>(n));
    while (!in.empty()) {
      auto d = dec.next(in);
      in.remove_prefix(d.consumed);
      const auto& ev = d.ev;
      if (ev.type == proto::event_type::error) return;
      if (ev.type == proto::event_type::begin_request) {
        keep = (ev.flags & proto::flag_keep_conn) != 0;
        params.clear();
      } else if (ev.type == proto::event_type::stream_data && ev.record() == proto::record_type::params) {
        params.append(ev.data);
      } else if (ev.type == proto::event_type::stream_end && ev.record() == proto::record_type::params) {
        const bool whole = !proto::validate_name_values(params);
        record(file, "request params=" + std::to_string(params.size()) + (whole ? " whole\n" : " broken\n"));
      } else if (ev.type == proto::event_type::stream_end && ev.record() == proto::record_type::stdin_stream) {
        std::string out;
        proto::append_stream(out, proto::record_type::stdout_stream, ev.request_id,
                             "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok");
        proto::append_stream_end(out, proto::record_type::stdout_stream, ev.request_id);
        proto::append_end_request(out, ev.request_id, 0, proto::protocol_status::request_complete);
        if (!write_all(fd, out) || !keep) return;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s RECORD_FILE (FastCGI worker on fd 0)\n", argv[0]);
    return 2;
  }
  for (;;) {
    const int fd = ::accept(0, nullptr, nullptr);
    if (fd < 0) return 1;
    serve(fd, argv[1]);
    ::close(fd);
  }
}
