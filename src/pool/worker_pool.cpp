// SPDX-License-Identifier: ISC
#include "src/pool/worker_pool.hpp"

#include "proto/name_value.hpp"
#include "src/base/invariant.hpp"
#include "src/base/log.hpp"
#include "src/core/access_log.hpp"
#include "src/core/request.hpp"
#include "src/process/worker_process.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>

namespace fcgimux {
namespace {

using namespace std::chrono_literals;

constexpr auto first_backoff = 100ms;
constexpr auto max_backoff = 30s;
// Crashes while serving may be one bad request's doing: keep refilling the pool quickly.
constexpr auto max_crash_backoff = 1s;
// A worker that dies sooner than this without serving a request "could not start".
constexpr auto min_healthy_uptime = 1s;
constexpr std::size_t max_stderr_line = 4096;

// --rlimit-files, --rlimit-core and --nice, said once at start-up (a worker says on its stderr if
// one is refused).
void log_limits(const pool_config& c) {
  std::string what;
  auto limit = [](const worker_rlimit& l) {
    return l.unlimited ? std::string("unlimited") : fmt::format("{}", l.value);
  };
  if (c.rlimit_files.set) what += fmt::format(", open files {}", limit(c.rlimit_files));
  if (c.rlimit_core.set) what += fmt::format(", core size {}", limit(c.rlimit_core));
  if (c.nice_set) what += fmt::format(", nice {}", c.nice);
  if (!what.empty() && !c.command.empty()) log::info("pool {}: workers' limits: {}", c.name, what.substr(2));
}

}  // namespace

worker_pool::worker_pool(asio::io_context& io, const pool_config& cfg, pool_stats& st, reaper& reaper,
                         member_events& events)
    : io_(io),
      cfg_(cfg),
      st_(st),
      reaper_(reaper),
      events_(events),
      scaler_(scaler_config{cfg.workers, cfg.max_workers, cfg.spare, cfg.max_spawn_rate, cfg.idle_timeout.count()}),
      release_timer_(io),
      spawn_timer_(io),
      keep_conn_(cfg.keep_conn != keep_conn_mode::no) {}

void worker_pool::start(const std::string& socket_prefix) {
  socket_prefix_ = socket_prefix;
  log_limits(cfg_);
  release_pass();
  spawn(cfg_.workers);
  grow();  // --spare above the minimum
}

void worker_pool::spawn(std::size_t n) {
  // Callers decide whether a drain allows it (grow() does not; a worker's exit may).
  for (std::size_t i = 0; i < n && !stopping_all_; ++i) {
    auto w = std::make_shared<pool_member>();
    w->home = this;
    w->process = std::make_shared<worker>(io_);
    w->process->serial = next_serial_++;
    w->process->generation = generation_;
    w->where = unix_endpoint(fmt::format("{}{}.sock", socket_prefix_, w->process->serial));
    std::error_code ec;
    spawn_options opts{.batch_scheduling = cfg_.batch_workers,
                       .env = cfg_.env,
                       .clear_env = cfg_.clear_env,
                       .pass_env = cfg_.pass_env,
                       .no_new_privs = cfg_.no_new_privs,
                       .credentials = cfg_.credentials,
                       .chroot = cfg_.chroot,
                       .chdir = cfg_.chdir,
                       .rlimit_files = cfg_.rlimit_files,
                       .rlimit_core = cfg_.rlimit_core,
                       .nice_set = cfg_.nice_set,
                       .nice = cfg_.nice};
    spawned_process p = spawn_worker(cfg_.command, w->where.text, opts, ec);
    if (ec) {
      log::error("pool {}: cannot start a worker: {}", cfg_.name, ec.message());
      ++start_failures_;
      back_off(clock_type::now());
      schedule_spawn(spawn_not_before_);
      return;
    }
    w->pid = w->process->pid = p.pid;
    w->process->group = process_group(p.pid, p.pidfd);
    std::error_code aec;
    w->process->exec_status.assign(p.exec_status_fd, aec);
    if (!aec) w->process->err_pipe.assign(p.stderr_fd, aec);
    if (aec) log::error("worker {}: cannot watch its pipes: {}", p.pid, aec.message());
    ++st_.counts.workers_spawned;
    workers_.push_back(w);
    // What it forked goes with it, killed while its exited leader still holds the group's number.
    reaper_.watch(
        w->pid, [this, w](int status) { on_exit(w, status); }, [w] { signal_worker(*w->process, SIGKILL); });
    log::debug("worker {} started: {}", w->pid, cfg_.command.front());
    watch_exec(w);
    watch_stderr(w->process);
  }
}

void worker_pool::watch_exec(std::shared_ptr<pool_member> w) {
  ++exec_watches_;
  asio::co_spawn(
      io_,
      [this, w]() -> asio::awaitable<void> {
        struct counted {
          std::size_t& n;
          member_events& events;
          ~counted() {
            --n;
            events.changed();
          }
        } watching{exec_watches_, events_};
        child_failure failure;
        auto [ec, n] = co_await asio::async_read(w->process->exec_status, asio::buffer(&failure, sizeof failure),
                                                 asio::experimental::as_tuple(asio::use_awaitable));
        std::error_code ignore;
        w->process->exec_status.close(ignore);
        if (n == sizeof failure) {
          const std::string what = fcgimux::describe(failure.step, cfg_.command.front(), cfg_.chroot, cfg_.chdir);
          if (failure.error != 0)
            log::error("worker {}: {}: {}", w->pid, what, std::strerror(failure.error));
          else
            log::error("worker {}: {}", w->pid, what);
          co_return;  // the child exits 127 and is reaped as a failed start
        }
        // EOF: exec succeeded. The socket was listening before exec, so connections queue from now.
        if (w->process->exited || w->state != worker_state::starting) co_return;
        make_idle(w);
        new_worker_ready(w);
        events_.member_ready();
      },
      log::on_exception("a worker's exec watch"));
}

void worker_pool::watch_stderr(std::shared_ptr<worker> w) {
  asio::co_spawn(
      io_,
      [w, pool = cfg_.name]() -> asio::awaitable<void> {
        // Escaped as the access log escapes what a client sent: a worker must not be able to
        // forge a line of fcgimux's log or send escape sequences to an operator's terminal.
        std::string escaped;
        auto log_line = [&](std::string_view line) {
          escaped.clear();
          append_escaped(escaped, line, false);
          log::warning("worker {} (pool {}): {}", w->pid, pool, escaped);
        };
        char buf[4096];
        for (;;) {
          auto [ec, n] = co_await w->err_pipe.async_read_some(asio::buffer(buf),
                                                              asio::experimental::as_tuple(asio::use_awaitable));
          if (ec) break;
          w->err_partial.append(buf, n);
          std::size_t start = 0, nl;
          while ((nl = w->err_partial.find('\n', start)) != std::string::npos) {
            log_line(std::string_view(w->err_partial).substr(start, nl - start));
            start = nl + 1;
          }
          w->err_partial.erase(0, start);
          // A line without end is logged in bounded pieces as it comes: neither the log's lines
          // nor fcgimux's memory grow with what a worker writes.
          while (w->err_partial.size() >= max_stderr_line) {
            log_line(std::string_view(w->err_partial).substr(0, max_stderr_line));
            w->err_partial.erase(0, max_stderr_line);
          }
        }
        if (!w->err_partial.empty()) log_line(w->err_partial);
        std::error_code ignore;
        w->err_pipe.close(ignore);
      },
      log::on_exception("a worker's stderr reader"));
}

void worker_pool::on_exit(const std::shared_ptr<pool_member>& w, int status) {
  w->process->exited = true;
  w->process->group.leader_reaped();
  w->process->kill_timer.cancel();
  w->process->probation.cancel();
  ++st_.counts.workers_exited;
  auto now = clock_type::now();
  // What it forked was killed just before this reap (the reaper's `last`): nobody would ever ask
  // those processes for anything. Once reaped, its number is no longer a safe name for its group.
  bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !w->ended_unanswered;
  bool crashed = !w->process->signalled_by_us && !clean;
  if (crashed) ++st_.counts.workers_crashed;
  // Died on its own before it was given any request: the program cannot run (bad path, bad
  // arguments, a crash at start-up). A crash while serving is the request's or the program's bug.
  bool failed_start = !w->process->signalled_by_us && w->requests == 0 && !w->current &&
                      (w->state == worker_state::starting || now - w->process->started_at < min_healthy_uptime);
  if (w->process->refused_kept_connection) settle_kept_connections(*w, status);
  if (failed_start)
    ++start_failures_;
  else if (crashed)
    ++crash_streak_;
  if (failed_start) roll_failed(*w, describe_exit(status));
  if (failed_start || crashed) {
    back_off(now);
    log::warning("worker {} {} after {} requests{}{}; next start in {} ms", w->pid, describe_exit(status), w->requests,
                 w->ended_unanswered ? ", leaving a request unanswered" : "", failed_start ? " (failed to start)" : "",
                 std::chrono::duration_cast<std::chrono::milliseconds>(spawn_not_before_ - now).count());
  } else {
    log::debug("worker {} {} after {} requests", w->pid, describe_exit(status), w->requests);
  }
  remove_idle(w.get());
  if (!w->current) w->conn.reset();  // a busy worker's exchange owns the connection and sees EOF
  ::unlink(w->where.text.c_str());
  std::erase(workers_, w);
  events_.changed();
  if (stopping_all_) return;
  if (no_spawn_) {
    // Draining: requests in flight and those still arriving on open front connections need a
    // worker. The last one leaving on its own (php-cgi after PHP_FCGI_MAX_REQUESTS) is replaced.
    if (!can_take_requests() && clock_type::now() >= spawn_not_before_) spawn(1);
    if (!can_take_requests()) events_.no_member_left("fcgimux is shutting down and no worker is left");
    return;
  }
  grow();
  roll_step();
  if (cannot_serve()) events_.no_member_left("no worker can start");
}

void worker_pool::back_off(clock_type::time_point now) {
  auto delay = [](int n, clock_type::duration cap) {
    return n <= 0 ? clock_type::duration::zero()
                  : std::min<clock_type::duration>(first_backoff * (1 << std::min(n - 1, 10)), cap);
  };
  spawn_not_before_ = now + std::max(delay(start_failures_, max_backoff), delay(crash_streak_, max_crash_backoff));
}

void worker_pool::grow() {
  if (stopping_all_ || no_spawn_) return;
  auto now = clock_type::now();
  pool_counts p = counts();
  std::size_t want = scaler_.wanted(p);
  if (want == 0) return;
  if (now < spawn_not_before_) {
    schedule_spawn(spawn_not_before_);
    return;
  }
  std::size_t n = scaler_.take_starts(p, now);
  // While starts keep failing, probe with one worker at a time.
  if (start_failures_ > 0) n = std::min<std::size_t>(n, p.starting == 0 ? 1 : 0);
  spawn(n);
  if (n < want) schedule_spawn(std::max(scaler_.next_token_at(now), now + std::chrono::milliseconds(1)));
}

void worker_pool::schedule_spawn(clock_type::time_point at) {
  if (spawn_timer_armed_ || stopping_all_) return;
  spawn_timer_armed_ = true;
  spawn_timer_.expires_at(at);
  spawn_timer_.async_wait([this](const std::error_code& ec) {
    spawn_timer_armed_ = false;
    if (ec) return;
    grow();
    roll_step();
  });
}

bool worker_pool::can_take_requests() const noexcept {
  return std::any_of(workers_.begin(), workers_.end(), [](auto& w) { return w->state != worker_state::stopping; }) ||
         !no_spawn_;
}

void worker_pool::stop_spawning() {
  no_spawn_ = true;
  spawn_timer_.cancel();
  if (!can_take_requests()) events_.no_member_left("fcgimux is shutting down and no worker is left");
}

bool worker_pool::cannot_serve() const noexcept {
  if (start_failures_ < 3) return false;
  return std::none_of(workers_.begin(), workers_.end(),
                      [](auto& w) { return w->state == worker_state::idle || w->state == worker_state::busy; });
}

pool_counts worker_pool::counts() const noexcept {
  pool_counts p;
  for (auto& w : workers_) {
    if (w->state == worker_state::stopping) continue;
    ++p.live;
    if (w->state == worker_state::starting) ++p.starting;
    if (w->state == worker_state::idle) ++p.idle;
  }
  p.queued = events_.waiting();
  return p;
}

std::size_t worker_pool::busy_count() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(workers_.begin(), workers_.end(), [](auto& w) { return w->state == worker_state::busy; }));
}

std::vector<worker_info> worker_pool::describe() const {
  std::vector<worker_info> out;
  auto now = clock_type::now();
  for (auto& w : workers_) {
    worker_info i;
    i.pid = w->pid;
    i.state = w->state;
    i.requests = w->requests;
    i.generation = w->process->generation;
    i.uptime_s = std::chrono::duration<double>(now - w->process->started_at).count();
    i.last_request_cpu = w->process->usage.last_cpu_percent();
    i.last_request_memory = w->process->usage.last_memory();
    if (w->current) {
      i.has_current = true;
      i.current_uri = w->current->uri;
      i.current_elapsed_ms = std::chrono::duration<double, std::milli>(now - w->current->started_at).count();
      const std::string& params = w->current->params;
      i.current_method = proto::find_name_value(params, "REQUEST_METHOD").value;
      i.current_script = proto::find_name_value(params, "SCRIPT_FILENAME").value;
      i.current_user = proto::find_name_value(params, "REMOTE_USER").value;
      const std::string_view length = proto::find_name_value(params, "CONTENT_LENGTH").value;
      std::from_chars(length.data(), length.data() + length.size(), i.current_length);  // else 0
    }
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace fcgimux
