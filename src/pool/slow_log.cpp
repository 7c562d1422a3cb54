// SPDX-License-Identifier: ISC
#include "src/pool/slow_log.hpp"

#include "proto/name_value.hpp"
#include "src/base/log.hpp"
#include "src/core/access_log.hpp"
#include "src/process/worker_trace.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <system_error>

namespace fcgimux {
namespace {

// Each line of `text` indented by two spaces, its control characters (but tabs) as \xHH: a
// debugger's output may quote a request's strings, which must not forge an entry's lines.
void append_block(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  out.append("  ");
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (ch == '\n') {
      out.append("\n  ");
    } else if ((c < 0x20 && ch != '\t') || c == 0x7f) {
      out.append("\\x");
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('\n');
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(" = ");
  append_escaped(out, value);
  out.push_back('\n');
}

std::string wall_time() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char buf[64];
  return std::string(buf, std::strftime(buf, sizeof buf, "%d-%b-%Y %H:%M:%S %z", &tm));
}

}  // namespace

std::shared_ptr<log::output> open_slow_log(const pool_config& p) {
  if (p.slowlog == "off") return nullptr;
  try {
    return log::open_output(p.slowlog);
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), fmt::format("pool \"{}\": slowlog: cannot open {}", p.name, p.slowlog));
  }
}

slow_log::slow_log(asio::io_context& io, reaper& children, const pool_config& cfg)
    : io_(io), children_(children), cfg_(cfg), out_(open_slow_log(cfg)), timer_(io) {}

// The timer's handler checks `alive_` first: after this it never touches the object.
slow_log::~slow_log() = default;

void slow_log::prepare(const pool_config& next) {
  next_out_.reset();
  if (next.slowlog != cfg_.slowlog) next_out_ = open_slow_log(next);
}

bool slow_log::reconfigure() {
  if (!next_out_) return false;
  out_ = std::move(*next_out_);
  next_out_.reset();
  return true;
}

void slow_log::watch(const std::shared_ptr<request>& r) {
  // A remote server's pid is not ours to look at: its slow requests go to the error log only.
  if (!out_ || cfg_.slow_threshold <= seconds::zero() || r->worker_pid <= 0) return;
  // Requests that ended are dropped from the front here, so that a busy pool of fast requests
  // keeps about one threshold's worth of them, not all.
  while (!watched_.empty()) {
    auto front = watched_.front().r.lock();
    if (front && front->state == request_state::at_worker && front->attempts == watched_.front().attempt) break;
    watched_.pop_front();
  }
  watched_.push_back({r, r->attempts, r->started_at + to_duration(cfg_.slow_threshold)});
  arm();
}

void slow_log::arm() {
  if (armed_ || watched_.empty()) return;
  armed_ = true;
  timer_.expires_at(watched_.front().deadline);
  timer_.async_wait([this, alive = std::weak_ptr<char>(alive_)](const std::error_code& ec) {
    if (ec || alive.expired()) return;
    armed_ = false;
    expired();
  });
}

void slow_log::expired() {
  const auto now = clock_type::now();
  while (!watched_.empty() && watched_.front().deadline <= now) {
    watched w = std::move(watched_.front());
    watched_.pop_front();
    auto r = w.r.lock();
    // Once per request at a worker: a request sent on to another worker is watched again there.
    if (r && r->state == request_state::at_worker && r->attempts == w.attempt && out_) write_entry(*r);
  }
  arm();
}

void slow_log::write_entry(request& r) {
  using namespace std::chrono;
  const int pid = r.worker_pid;
  const double elapsed = duration<double>(clock_type::now() - r.started_at).count();
  std::string entry =
      fmt::format("[{}] pool {} pid {}: slow request, {:.3f} s at the worker\n", wall_time(), cfg_.name, pid, elapsed);
  append_field(entry, "method", proto::find_name_value(r.params, "REQUEST_METHOD").value);
  append_field(entry, "uri", r.uri);
  append_field(entry, "script", proto::find_name_value(r.params, "SCRIPT_FILENAME").value);
  entry.append("wchan = ").append(wait_channel(pid)).push_back('\n');
  entry.append("kernel stack:\n");
  append_block(entry, kernel_stack(pid));
  log::warning("pool {}: request {} still at worker {} after {:.3f} s; see the slowlog {}", cfg_.name,
               r.uri.empty() ? "-" : r.uri, pid, elapsed, out_->path());

  const bool busy = tracing_->count(pid) != 0;
  if (cfg_.slowlog_command.empty() || busy) {
    if (busy) entry.append("command: not run, the one started earlier on this worker still runs\n");
    entry.push_back('\n');
    out_->append(entry);
    return;
  }
  tracing_->insert(pid);
  const std::string shown = trace_command_for(cfg_.slowlog_command, pid);
  auto done = [out = out_, tracing = tracing_, pid, shown, entry = std::move(entry)](trace_result t) mutable {
    tracing->erase(pid);
    entry.append("command = ").append(shown).append(" (");
    entry.append(t.timed_out ? "killed past --slowlog-timeout, " : "").append(t.how_ended).append(")\n");
    if (!t.output.empty()) append_block(entry, t.output);
    if (t.truncated) entry.append("  [output cut]\n");
    entry.push_back('\n');
    out->append(entry);
  };
  run_trace_command(io_, children_, cfg_.slowlog_command, pid,
                    duration_cast<milliseconds>(to_duration(cfg_.slowlog_timeout)), std::move(done));
}

}  // namespace fcgimux
