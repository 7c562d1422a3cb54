// SPDX-License-Identifier: ISC
#include "src/core/access_log.hpp"

#include "proto/name_value.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <iterator>
#include <system_error>

namespace fcgimux {
namespace {

using kind = access_token::kind;

constexpr std::string_view field_names[] = {"REQUEST_METHOD", "REQUEST_URI", "SCRIPT_NAME",    "QUERY_STRING",
                                            "REMOTE_ADDR",    "REMOTE_USER", "CONTENT_LENGTH", "SCRIPT_FILENAME"};

}  // namespace

// What a client sent is written with its control characters, quotes and backslashes as \xHH (as
// nginx does): a request must not be able to forge a line or break a quoted field.
void append_escaped(std::string& out, std::string_view v, bool dash_if_empty) {
  if (v.empty()) {
    if (dash_if_empty) out.push_back('-');
    return;
  }
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      out.append("\\x");
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
}

access_log::access_log(std::shared_ptr<log::output> out, std::vector<access_token> format)
    : out_(std::move(out)), format_(std::move(format)), times_(format_.size()) {
  for (const auto& t : format_) {
    switch (t.k) {
      case kind::method: wanted_ |= 1u << method; break;
      case kind::uri: wanted_ |= 1u << request_uri | 1u << script_name; break;
      case kind::query:
      case kind::query_mark: wanted_ |= 1u << query; break;
      case kind::remote_addr: wanted_ |= 1u << remote_addr; break;
      case kind::remote_user: wanted_ |= 1u << remote_user; break;
      case kind::content_length: wanted_ |= 1u << content_length; break;
      case kind::script_filename: wanted_ |= 1u << script_filename; break;
      default: break;
    }
  }
}

bool access_log::write(const request& r, std::string_view pool) {
  format(line_, r, pool, clock_type::now());
  line_.push_back('\n');
  return out_->append(line_);
}

void access_log::format(std::string& line, const request& r, std::string_view pool, clock_type::time_point now) {
  // One pass over the PARAMS for every field the format reads.
  std::string_view found[fixed_fields];
  bool have[fixed_fields] = {};
  if (wanted_ != 0) {
    proto::name_value_reader rd(r.params);
    proto::name_value nv;
    unsigned left = wanted_;
    while (left != 0 && rd.next(nv)) {
      for (unsigned f = 0; f < fixed_fields; ++f)
        if ((left & 1u << f) && nv.name == field_names[f]) {
          found[f] = nv.value;
          have[f] = true;
          left &= ~(1u << f);
          break;
        }
    }
  }
  const auto elapsed = now - r.accepted_at;
  const auto wall_now = std::chrono::system_clock::now();
  line.clear();
  auto out = std::back_inserter(line);
  for (std::size_t i = 0; i < format_.size(); ++i) {
    const access_token& t = format_[i];
    switch (t.k) {
      case kind::text: line.append(t.arg); break;
      case kind::accept_time:
      case kind::end_time: {
        auto wall = t.k == kind::end_time
                        ? wall_now
                        : wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(elapsed);
        std::time_t sec = std::chrono::system_clock::to_time_t(wall);
        time_cache& c = times_[i];
        if (c.second != sec) {
          // strftime per second, not per request: a second's requests share one text.
          std::tm tm{};
          ::localtime_r(&sec, &tm);
          char buf[256];
          std::size_t n = std::strftime(buf, sizeof buf, t.arg.empty() ? "%d/%b/%Y:%H:%M:%S %z" : t.arg.c_str(), &tm);
          c.text.assign(buf, n);
          c.second = sec;
        }
        line.append(c.text);
        break;
      }
      case kind::method: append_escaped(line, found[method]); break;
      case kind::uri: {
        std::string_view uri = have[request_uri] ? found[request_uri] : found[script_name];
        append_escaped(line, uri.substr(0, uri.find('?')));
        break;
      }
      case kind::query: append_escaped(line, found[query], false); break;
      case kind::query_mark:
        if (!found[query].empty()) line.push_back('?');
        break;
      case kind::status: {
        // The client left before its answer: 499, as nginx logs it. A worker that failed after
        // output went out cut the answer off: that is its 502, whoever closed what.
        int status = r.front_gone && !r.cut_off ? 499 : r.end_status;
        fmt::format_to(out, "{}", status);
        break;
      }
      case kind::duration: {
        using namespace std::chrono;
        if (t.u == access_token::unit::micro)
          fmt::format_to(out, "{}", duration_cast<microseconds>(elapsed).count());
        else if (t.u == access_token::unit::milli)
          fmt::format_to(out, "{:.3f}", duration<double, std::milli>(elapsed).count());
        else
          fmt::format_to(out, "{:.3f}", duration<double>(elapsed).count());
        break;
      }
      case kind::worker_pid:
        if (r.worker_pid > 0)
          fmt::format_to(out, "{}", r.worker_pid);
        else
          line.push_back('-');  // answered by fcgimux itself (queue full, timeout in the queue, status page)
        break;
      case kind::fcgimux_pid: fmt::format_to(out, "{}", ::getpid()); break;
      case kind::pool: line.append(pool); break;
      case kind::remote_addr: append_escaped(line, found[remote_addr]); break;
      case kind::remote_user: append_escaped(line, found[remote_user]); break;
      case kind::content_length:
        append_escaped(line, found[content_length].empty() ? "0" : found[content_length]);
        break;
      case kind::script_filename: append_escaped(line, found[script_filename]); break;
      case kind::param: append_escaped(line, proto::find_name_value(r.params, t.arg).value); break;
    }
  }
}

std::unique_ptr<access_log> open_access_log(const pool_config& p) {
  if (p.access_log == "off") return nullptr;
  std::shared_ptr<log::output> out;
  try {
    out = log::open_output(p.access_log);
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), fmt::format("pool \"{}\": access-log: cannot open {}", p.name, p.access_log));
  }
  return std::make_unique<access_log>(std::move(out), parse_access_format(p.access_format));
}

}  // namespace fcgimux
