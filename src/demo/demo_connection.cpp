// SPDX-License-Identifier: ISC
#include "demo_connection.hpp"

#include "demo_response.hpp"
#include "proto/decoder.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <string>

namespace fcgimux::demo {

namespace {

bool write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string get_values_result(std::string_view query) {
  std::string block;
  proto::name_value_reader reader(query);
  proto::name_value nv;
  while (reader.next(nv)) {
    if (nv.name == proto::var_max_conns || nv.name == proto::var_max_reqs) {
      proto::append_name_value(block, nv.name, "1");
    } else if (nv.name == proto::var_mpxs_conns) {
      proto::append_name_value(block, nv.name, "0");
    }
  }
  std::string out;
  proto::append_management(out, proto::record_type::get_values_result, block);
  return out;
}

// The request this connection is collecting; there is at most one (the demo does not multiplex).
struct pending_request {
  bool active = false;
  bool hung = false;
  std::uint16_t id = 0;
  bool keep_conn = false;
  std::string params;
  std::string body;
};

}  // namespace

void serve_connection(int fd, const demo_options& options, std::uint64_t& served) {
  proto::decoder dec({.max_params_bytes = 1024 * 1024, .max_active_requests = 1});
  pending_request req;
  std::string out;
  std::string in(64 * 1024, '\0');
  bool open = true;

  // kcgi applications treat anything beyond a plain one-shot request as fatal, and the ones seen
  // in the wild then exit with status 0 (issue 13): nothing in the status says it went wrong.
  auto kcgi_exit = [&] {
    if (options.kcgi) ::_exit(0);
  };

  while (open) {
    ssize_t n = ::read(fd, in.data(), in.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::string_view rest(in.data(), static_cast<std::size_t>(n));
    while (open && !rest.empty()) {
      proto::decode_result r = dec.next(rest);
      if (r.consumed == 0 && r.ev.type == proto::event_type::none) {
        open = false;  // a decoder that makes no progress would spin forever
        break;
      }
      rest.remove_prefix(r.consumed);
      const proto::event& ev = r.ev;
      out.clear();
      switch (ev.type) {
        case proto::event_type::none: break;
        case proto::event_type::error: open = false; break;
        case proto::event_type::get_values:
          kcgi_exit();
          out = get_values_result(ev.data);
          break;
        case proto::event_type::get_values_result:
        case proto::event_type::unknown_type:
          kcgi_exit();
          proto::append_unknown_type(out, ev.record_raw);
          break;
        case proto::event_type::unknown_record:
          kcgi_exit();
          if (ev.request_id == proto::null_request_id) proto::append_unknown_type(out, ev.record_raw);
          break;
        case proto::event_type::begin_request:
          if (ev.over_limit) {
            proto::append_end_request(out, ev.request_id, 0, proto::protocol_status::cant_mpx_conn);
            break;
          }
          if ((ev.flags & proto::flag_keep_conn) != 0) kcgi_exit();
          if (ev.role != static_cast<std::uint16_t>(proto::role::responder)) {
            proto::append_end_request(out, ev.request_id, 0, proto::protocol_status::unknown_role);
            dec.release(ev.request_id);
            if ((ev.flags & proto::flag_keep_conn) == 0) open = false;
            break;
          }
          req = {};
          req.active = true;
          req.id = ev.request_id;
          req.keep_conn = (ev.flags & proto::flag_keep_conn) != 0;
          break;
        case proto::event_type::abort_request:
          kcgi_exit();
          if (req.active && ev.request_id == req.id) {
            proto::append_end_request(out, req.id, 0, proto::protocol_status::request_complete);
            dec.release(req.id);
            open = req.keep_conn && !options.kcgi;
            req = {};
          }
          break;
        case proto::event_type::end_request: break;
        case proto::event_type::stream_data:
          if (!req.active || ev.request_id != req.id) break;
          if (ev.record() == proto::record_type::params) req.params.append(ev.data);
          if (ev.record() == proto::record_type::stdin_stream) req.body.append(ev.data);
          break;
        case proto::event_type::stream_end:
          if (!req.active || req.hung || ev.request_id != req.id || ev.record() != proto::record_type::stdin_stream) {
            break;
          }
          if (outcome o = respond({req.id, req.params, req.body}, out); o == outcome::hang) {
            req.hung = true;
            break;
          } else if (o == outcome::exit_after_write) {
            write_all(fd, out);
            ::_exit(3);
          }
          dec.release(req.id);
          ++served;
          open = req.keep_conn && !options.kcgi && (options.max_requests == 0 || served < options.max_requests);
          req = {};
          break;
      }
      if (!out.empty() && !write_all(fd, out)) open = false;
    }
  }
  ::close(fd);
}

}  // namespace fcgimux::demo
