// SPDX-License-Identifier: ISC
// A FastCGI worker for tests that misbehaves on request: `?do=NAME` picks what it does wrong
// (see respond()). Accepts on the listening socket at fd 0, one connection and one request at a
// time, honouring FCGI_KEEP_CONN; `?do=ok` (or no query) answers normally.

#include "proto/decoder.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <thread>

namespace proto = fcgimux::proto;
using namespace std::chrono_literals;

namespace {

constexpr std::uint16_t no_id = 0;

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

[[noreturn]] void hang() {
  for (;;) ::pause();
}

std::string answer(std::uint16_t id, std::string_view head_and_body) {
  std::string out;
  proto::append_stream(out, proto::record_type::stdout_stream, id, head_and_body);
  proto::append_stream_end(out, proto::record_type::stdout_stream, id);
  proto::append_end_request(out, id, 0, proto::protocol_status::request_complete);
  return out;
}

std::string ok_answer(std::uint16_t id) {
  return answer(id, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok from pid " + std::to_string(::getpid()));
}

std::string action_of(std::string_view params) {
  auto q = proto::find_name_value(params, "QUERY_STRING").value;
  if (q.rfind("do=", 0) != 0) return "ok";
  return std::string(q.substr(3));
}

// Returns whether the connection stays open. Actions that must happen before STDIN is read
// ("no_read") are taken when the PARAMS end; all others once STDIN has ended.
bool respond(int fd, const std::string& what, std::uint16_t id, bool keep) {
  std::string out;
  if (what == "garbage") {
    write_all(fd, "HTTP/1.1 200 OK\r\nthis is not FastCGI at all\r\n\r\n");
  } else if (what == "bad_version") {
    out = ok_answer(id);
    out[0] = 2;
    write_all(fd, out);
  } else if (what == "bad_length") {
    // An END_REQUEST whose body claims 3 bytes: no such record exists.
    write_all(fd, std::string("\x01\x03\x00\x01\x00\x03\x00\x00xyz", 11));
  } else if (what == "wrong_id") {
    write_all(fd, answer(static_cast<std::uint16_t>(id + 6), "Status: 200\r\n\r\nnot yours") + ok_answer(id));
  } else if (what == "end_first") {
    proto::append_end_request(out, id, 0, proto::protocol_status::request_complete);
    write_all(fd, out);
  } else if (what == "after_end") {
    out = ok_answer(id);
    proto::append_stream(out, proto::record_type::stdout_stream, id, "stray output");
    write_all(fd, out);
  } else if (what == "after_end_later") {
    write_all(fd, ok_answer(id));
    std::this_thread::sleep_for(300ms);
    proto::append_stream(out, proto::record_type::stdout_stream, id, "Status: 200\r\n\r\nstray answer");
    proto::append_end_request(out, id, 0, proto::protocol_status::request_complete);
    write_all(fd, out);
  } else if (what == "double_end") {
    out = ok_answer(id);
    proto::append_end_request(out, id, 0, proto::protocol_status::request_complete);
    write_all(fd, out);
  } else if (what == "get_values") {
    proto::append_management(out, proto::record_type::get_values,
                             std::string("\x0e\x00"
                                         "FCGI_MAX_CONNS",
                                         16));
    write_all(fd, out + ok_answer(id));
  } else if (what == "begin") {
    proto::append_begin_request(out, id, 1, 0);
    write_all(fd, out + ok_answer(id));
  } else if (what == "unknown_type") {
    proto::append_unknown_type(out, 99);
    write_all(fd, out + ok_answer(id));
  } else if (what == "stderr_flood") {
    std::string chunk(65535, 'e');
    for (int i = 0; i < 1600; ++i) {  // 100 MB
      out.clear();
      proto::append_stream(out, proto::record_type::stderr_stream, id, chunk);
      if (!write_all(fd, out)) return false;
    }
    write_all(fd, ok_answer(id));
  } else if (what == "fd2_line") {
    std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 10; ++i) write_all(2, chunk);  // 10 MB, no newline
    write_all(fd, ok_answer(id));
  } else if (what == "big_head") {
    std::string line = "X-Filler: " + std::string(1000, 'h') + "\r\n";
    for (int i = 0; i < 1000; ++i) {  // 1 MB of head lines, never a blank one
      out.clear();
      proto::append_stream(out, proto::record_type::stdout_stream, id, line);
      if (!write_all(fd, out)) return false;
    }
    out.clear();
    proto::append_stream_end(out, proto::record_type::stdout_stream, id);
    proto::append_end_request(out, id, 0, proto::protocol_status::request_complete);
    write_all(fd, out);
  } else if (what == "bad_status") {
    write_all(fd, answer(id, "Status: abc\r\nContent-Type: text/plain\r\n\r\nbody"));
  } else if (what == "no_head") {
    write_all(fd, answer(id, "a body without any head"));
  } else if (what == "stop") {
    out.clear();
    proto::append_stream(out, proto::record_type::stdout_stream, id, "Status: 200\r\n\r\nhalf an answer, then ");
    write_all(fd, out);
    ::raise(SIGSTOP);
    write_all(fd, ok_answer(id));
  } else if (what == "close_mid") {
    out.clear();
    proto::append_stream(out, proto::record_type::stdout_stream, id, "Status: 200\r\n\r\n" + std::string(100, 'b'));
    write_all(fd, std::string_view(out).substr(0, 30));
    ::_exit(0);
  } else if (what == "half_hang") {
    out.clear();
    proto::append_stream(out, proto::record_type::stdout_stream, id, "Status: 200\r\n\r\n" + std::string(100, 'b'));
    write_all(fd, std::string_view(out).substr(0, 30));
    hang();
  } else {
    write_all(fd, ok_answer(id));
  }
  return keep;
}

void serve(int fd) {
  proto::decoder dec;
  std::string in(64 * 1024, '\0');
  std::string params;
  std::string action;
  std::uint16_t id = no_id;
  bool keep = false;
  for (;;) {
    ssize_t n = ::read(fd, in.data(), in.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    std::string_view rest(in.data(), static_cast<std::size_t>(n));
    while (!rest.empty()) {
      auto d = dec.next(rest);
      rest.remove_prefix(d.consumed);
      const proto::event& ev = d.ev;
      if (ev.type == proto::event_type::error) return;
      if (ev.type == proto::event_type::begin_request) {
        id = ev.request_id;
        keep = (ev.flags & proto::flag_keep_conn) != 0;
        params.clear();
        action.clear();
      } else if (ev.type == proto::event_type::stream_data && ev.record() == proto::record_type::params) {
        params.append(ev.data);
      } else if (ev.type == proto::event_type::stream_end && ev.record() == proto::record_type::params) {
        action = action_of(params);
        if (action == "no_read") hang();
      } else if (ev.type == proto::event_type::stream_end && ev.record() == proto::record_type::stdin_stream) {
        dec.release(id);
        if (!respond(fd, action, id, keep)) return;
      }
    }
  }
}

}  // namespace

int main() {
  std::signal(SIGPIPE, SIG_IGN);
  for (;;) {
    int fd = ::accept(0, nullptr, nullptr);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    serve(fd);
    ::close(fd);
  }
}
