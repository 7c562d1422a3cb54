// SPDX-License-Identifier: ISC
#include "tests/support/fcgi_client.hpp"

#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <thread>

namespace fcgimux::test {

fcgi_params cgi_params(const std::string& method, const std::string& uri, std::size_t content_length) {
  auto q = uri.find('?');
  std::string path = uri.substr(0, q);
  std::string query = q == std::string::npos ? std::string() : uri.substr(q + 1);
  fcgi_params p = {
      {"GATEWAY_INTERFACE", "CGI/1.1"},
      {"SERVER_SOFTWARE", "fcgimux-tests"},
      {"SERVER_PROTOCOL", "HTTP/1.1"},
      {"SERVER_NAME", "localhost"},
      {"SERVER_ADDR", "127.0.0.1"},
      {"SERVER_PORT", "80"},
      {"REMOTE_ADDR", "127.0.0.1"},
      {"REMOTE_PORT", "40000"},
      {"REQUEST_METHOD", method},
      {"REQUEST_URI", uri},
      {"DOCUMENT_URI", path},
      {"SCRIPT_NAME", path},
      {"QUERY_STRING", query},
      {"CONTENT_LENGTH", content_length > 0 || method == "POST" ? std::to_string(content_length) : ""},
      {"CONTENT_TYPE", content_length > 0 ? "application/octet-stream" : ""},
  };
  return p;
}

const char* to_string(read_status s) noexcept {
  switch (s) {
    case read_status::ok: return "ok";
    case read_status::closed: return "closed";
    case read_status::timeout: return "timeout";
    case read_status::protocol_error: return "protocol_error";
  }
  return "?";
}

fcgi_client::fcgi_client(const endpoint& where) : fd_(connect_to(where)) {
  ignore_sigpipe();
  if (fd_) set_nonblocking(fd_.get());
}

void fcgi_client::set_write_chunking(std::size_t bytes, std::chrono::milliseconds pause) {
  write_chunk_ = bytes;
  write_pause_ = pause;
}

void fcgi_client::send_raw(std::string_view bytes) { out_.append(bytes); }

void fcgi_client::send_begin(std::uint16_t id, std::uint16_t role, std::uint8_t flags) {
  proto::append_begin_request(out_, id, role, flags);
}

void fcgi_client::send_params(std::uint16_t id, const fcgi_params& params, std::size_t record_size) {
  std::string block;
  for (const auto& [name, value] : params) proto::append_name_value(block, name, value);
  std::string_view rest = block;
  while (!rest.empty()) {
    std::size_t n = std::min({rest.size(), record_size, std::size_t{proto::max_content_length}});
    proto::append_record(out_, proto::record_type::params, id, rest.substr(0, n));
    rest.remove_prefix(n);
  }
  proto::append_stream_end(out_, proto::record_type::params, id);
}

void fcgi_client::send_stdin(std::uint16_t id, std::string_view data, std::size_t record_size, bool close) {
  while (!data.empty()) {
    std::size_t n = std::min({data.size(), record_size, std::size_t{proto::max_content_length}});
    proto::append_record(out_, proto::record_type::stdin_stream, id, data.substr(0, n));
    data.remove_prefix(n);
  }
  if (close) proto::append_stream_end(out_, proto::record_type::stdin_stream, id);
}

void fcgi_client::send_abort(std::uint16_t id) { proto::append_abort_request(out_, id); }

void fcgi_client::send_get_values(const std::vector<std::string>& names) {
  std::string block;
  for (const auto& n : names) proto::append_name_value(block, n, "");
  proto::append_management(out_, proto::record_type::get_values, block);
}

void fcgi_client::send_request(const request_spec& r) {
  send_begin(r.id, r.role, r.flags);
  send_params(r.id, r.params, r.params_record_size);
  send_stdin(r.id, r.body, r.stdin_record_size, true);
}

bool fcgi_client::pump(clock::time_point deadline, bool want_read) {
  if (!fd_) return false;
  bool want_write = out_pos_ < out_.size() && !write_failed_;
  want_read = want_read && !peer_closed_;
  if (!want_read && !want_write) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
  if (left < 0) return false;
  pollfd p{fd_.get(), static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0)), 0};
  int rc = ::poll(&p, 1, static_cast<int>(left));
  if (rc < 0) return errno == EINTR;
  if (rc == 0) return false;
  if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0 && want_read) {
    char buf[65536];
    ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      peer_closed_ = true;
    }
  }
  if ((p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0 && want_write) {
    std::size_t n = out_.size() - out_pos_;
    if (write_chunk_ > 0) n = std::min(n, write_chunk_);
    ssize_t w = ::send(fd_.get(), out_.data() + out_pos_, n, MSG_NOSIGNAL);
    if (w > 0) {
      out_pos_ += static_cast<std::size_t>(w);
      if (out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
      }
      if (write_pause_.count() > 0) std::this_thread::sleep_for(write_pause_);
    } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
      write_failed_ = true;
    }
  }
  return true;
}

bool fcgi_client::flush(std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  while (out_pos_ < out_.size() && !write_failed_) {
    if (!pump(deadline, true)) return false;
  }
  return !write_failed_ && out_pos_ == out_.size();
}

void fcgi_client::shutdown_write() {
  if (fd_) ::shutdown(fd_.get(), SHUT_WR);
}

void fcgi_client::store(const fcgi_record& rec) {
  if (rec.request_id == proto::null_request_id) {
    management_.push_back(rec);
    return;
  }
  fcgi_response& r = responses_[rec.request_id];
  switch (rec.type) {
    case proto::event_type::stream_data:
      if (rec.record_raw == static_cast<std::uint8_t>(proto::record_type::stdout_stream)) r.out += rec.data;
      if (rec.record_raw == static_cast<std::uint8_t>(proto::record_type::stderr_stream)) r.err += rec.data;
      break;
    case proto::event_type::stream_end:
      if (rec.record_raw == static_cast<std::uint8_t>(proto::record_type::stdout_stream)) r.stdout_closed = true;
      break;
    case proto::event_type::end_request:
      r.ended = true;
      r.app_status = rec.app_status;
      r.status = rec.status;
      break;
    default: break;
  }
}

read_status fcgi_client::next_record(fcgi_record& out, std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  for (;;) {
    if (decoder_.failed()) return read_status::protocol_error;
    if (in_pos_ < in_.size()) {
      std::string_view rest(in_.data() + in_pos_, in_.size() - in_pos_);
      proto::decode_result r = decoder_.next(rest);
      in_pos_ += r.consumed;
      const proto::event& ev = r.ev;
      if (ev.type == proto::event_type::error) return read_status::protocol_error;
      if (ev.type != proto::event_type::none) {
        out = fcgi_record{ev.type,  ev.record_raw, ev.request_id, std::string(ev.data), ev.role,
                          ev.flags, ev.app_status, ev.status,     ev.unknown_type};
        if (in_pos_ == in_.size()) {
          in_.clear();
          in_pos_ = 0;
        }
        store(out);
        return read_status::ok;
      }
      if (r.consumed == 0) return read_status::protocol_error;  // a decoder that stalls is a bug
      in_.clear();
      in_pos_ = 0;
      continue;
    }
    if (peer_closed_) return read_status::closed;
    if (!pump(deadline, true)) return peer_closed_ ? read_status::closed : read_status::timeout;
  }
}

read_status fcgi_client::read_response(std::uint16_t id, std::chrono::milliseconds timeout) {
  return read_responses({id}, timeout);
}

read_status fcgi_client::read_until(const std::function<bool(const fcgi_record* last)>& done,
                                    std::chrono::milliseconds timeout, fcgi_record& rec) {
  auto deadline = clock::now() + timeout;
  for (const fcgi_record* last = nullptr; !done(last); last = &rec) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() < 0) return read_status::timeout;
    read_status s = next_record(rec, left);
    if (s != read_status::ok) return s;
  }
  return read_status::ok;
}

read_status fcgi_client::read_responses(const std::vector<std::uint16_t>& ids, std::chrono::milliseconds timeout) {
  auto all_ended = [&](const fcgi_record*) {
    for (auto id : ids) {
      if (!responses_[id].ended) return false;
    }
    return true;
  };
  fcgi_record rec;
  return read_until(all_ended, timeout, rec);
}

read_status fcgi_client::read_until_closed(std::chrono::milliseconds timeout) {
  fcgi_record rec;
  read_status s = read_until([](const fcgi_record*) { return false; }, timeout, rec);
  return s == read_status::closed ? read_status::ok : s;
}

read_status fcgi_client::get_values(const std::vector<std::string>& names, std::map<std::string, std::string>& result,
                                    std::chrono::milliseconds timeout) {
  send_get_values(names);
  fcgi_record rec;
  read_status s = read_until(
      [](const fcgi_record* last) { return last && last->type == proto::event_type::get_values_result; }, timeout, rec);
  if (s != read_status::ok) return s;
  proto::name_value_reader reader(rec.data);
  proto::name_value nv;
  while (reader.next(nv)) result[std::string(nv.name)] = std::string(nv.value);
  return reader.error() ? read_status::protocol_error : read_status::ok;
}

read_status fcgi_client::exchange(const request_spec& r, std::chrono::milliseconds timeout) {
  send_request(r);
  return read_response(r.id, timeout);
}

}  // namespace fcgimux::test
