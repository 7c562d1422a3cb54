// SPDX-License-Identifier: ISC
#include "src/app/server.hpp"

#include "src/admin/stats_server.hpp"
#include "src/app/capabilities.hpp"
#include "src/app/pidfile.hpp"
#include "src/app/socket_activation.hpp"
#include "src/base/invariant.hpp"
#include "src/base/log.hpp"
#include "src/base/log_file.hpp"
#include "src/config/names.hpp"
#include "src/front/client_connection.hpp"
#include "src/front/listener.hpp"
#include "src/process/worker_checks.hpp"
#include "src/stats/history.hpp"

#include <fmt/ranges.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace fcgimux {

using namespace std::chrono_literals;

unix_access listener_access(const pool_config& p) {
  unix_access a;
  a.mode = p.socket_mode;
  if (p.socket_ids.set) {
    a.uid = static_cast<int>(p.socket_ids.uid);
    a.gid = static_cast<int>(p.socket_ids.gid);
  }
  return a;
}

resolved_address listen_address(const config& c, const std::string& address) {
  return address.rfind("unix:", 0) == 0 ? resolved_address{} : tcp_address(c, address);
}

namespace {

// Why `dir` may not hold the runtime directory: "" when only its owner (root or fcgimux's user)
// can change its entries, or when it is sticky (/tmp: nobody renames another user's entry there).
std::string runtime_parent_problem(const char* dir) {
  struct stat st {};
  if (::stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return "not a directory";
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) return fmt::format("owned by uid {}", st.st_uid);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
    return fmt::format("writable by others without the sticky bit (mode {:04o})", st.st_mode & 07777);
  return {};
}

}  // namespace

void log_worker_identity(const pool_config& p) {
  const worker_credentials& w = p.credentials;
  std::string where;
  if (!p.chroot.empty()) where += fmt::format(", root {}", p.chroot);
  if (!p.chdir.empty()) where += fmt::format(", directory {}", p.chdir);
  if (!w.change) {
    log::info("pool {}: workers run as fcgimux's own user {} (uid {}), group {} (gid {}){}", p.name, w.user_name, w.uid,
              w.group_name, w.gid, where);
    return;
  }
  log::info("pool {}: workers run as user {} (uid {}), group {} (gid {}), groups {}{}", p.name, w.user_name, w.uid,
            w.group_name, w.gid, fmt::join(w.groups, ","), where);
  if (w.uid == 0)
    log::info(
        "pool {}: warning: its workers run as root (--user root); a flaw in the program is then a flaw of the "
        "whole machine",
        p.name);
  log_worker_warnings(p);
}

void log_worker_warnings(const pool_config& p) {
  for (const std::string& line : worker_warnings(p)) log::warning("pool {}: warning: {}", p.name, line);
}

server::server(asio::io_context& io, config cfg, config_source reread, process_image image)
    : io_(io),
      role_(take_upgrade_role()),
      image_(std::move(image)),
      cfg_(std::move(cfg)),
      front_{.max_conns = cfg_.max_conns},
      reaper_(io),
      signals_(io, SIGTERM, SIGINT, SIGQUIT),
      hangup_(io, SIGHUP),
      user_signals_(io, SIGUSR1, SIGUSR2),
      drain_timer_(io),
      connection_closed_(io.get_executor()),
      upgrade_timer_(io),
      shutdown_delay_timer_(io),
      reload_reader_(io, std::move(reread)) {
  for (const pool_config& p : cfg_.pools) add_pool(std::make_unique<pool>(io_, p, st_, front_, reaper_));
  history_ = std::make_unique<stats_history>(st_);
}

void server::add_pool(std::unique_ptr<pool> p) {
  st_.add_pool(p->name(), p->stats());
  p->on_roll_stopped = [this](const std::string& why) {
    reload_failed(why);
    poke();
  };
  p->on_change = [this] { poke(); };
  pools_.push_back(std::move(p));
}

pool* server::find_pool(const std::string& name) const noexcept {
  for (auto& p : pools_)
    if (p->name() == name) return p.get();
  return nullptr;
}

server::~server() {
  if (!cfg_.pidfile.empty()) remove_pidfile(cfg_.pidfile);  // unless it names a newer process
  if (!runtime_dir_.empty()) {
    std::error_code ignore;
    std::filesystem::remove_all(runtime_dir_, ignore);
  }
}

void server::make_runtime_dir() {
  // mkdtemp makes a new directory (never one that exists, never through a link), 0700 and
  // fcgimux's own: only fcgimux's user reaches the worker sockets. A parent another user can
  // change entries of without the sticky bit would let that user rename it away and put a link in
  // its place, so such a parent is passed over.
  std::string base, skipped;
  const char* candidates[] = {std::getenv("XDG_RUNTIME_DIR"), std::getenv("TMPDIR"), "/tmp"};
  for (const char* candidate : candidates) {
    if (!candidate || !*candidate || ::access(candidate, W_OK) != 0) continue;
    if (std::string why = runtime_parent_problem(candidate); !why.empty()) {
      skipped += fmt::format("; {} is {}", candidate, why);
      continue;
    }
    base = candidate;
    break;
  }
  if (base.empty())
    throw std::runtime_error("no directory to make the workers' runtime directory in" +
                             (skipped.empty() ? std::string("") : skipped));
  if (!skipped.empty()) log::warning("runtime directory: passed over{}", skipped.substr(1));
  std::string templ = base + "/fcgimux.XXXXXX";
  if (!::mkdtemp(templ.data()))
    throw std::system_error(errno, std::system_category(), "cannot create a runtime directory in " + base);
  runtime_dir_ = templ;
}

void server::start() {
  // Workers get default handlers back before exec (worker_process.cpp).
  std::signal(SIGPIPE, SIG_IGN);
  // A socket systemd passed is a listener's when it is bound to the listener's address, or else
  // named (FileDescriptorName=) after the listener's pool; the others are bound here.
  std::vector<inherited_socket> inherited = take_inherited_sockets();
  // From a process that an upgrade replaces, only the address counts (a pool may have moved), or
  // for a port 0 (the port it got) the name, which is then the pool's too.
  auto take = [&](const std::string& name, const std::string& address) {
    if (inherited.empty()) return -1;
    const std::string canonical = canonical_address(address, listen_address(cfg_, address));
    auto it = std::find_if(inherited.begin(), inherited.end(), [&](auto& s) { return s.address == canonical; });
    const bool by_name = !role_.active() || canonical.ends_with(":0");
    if (it == inherited.end() && by_name)
      it = std::find_if(inherited.begin(), inherited.end(), [&](auto& s) { return s.name == name; });
    if (it == inherited.end()) return -1;
    int fd = it->fd;
    inherited.erase(it);
    return fd;
  };
  auto owned = [this](int fd) {
    return std::find(role_.owned_fds.begin(), role_.owned_fds.end(), fd) != role_.owned_fds.end();
  };
  for (auto& p : pools_) {
    for (const auto& a : p->settings().listen) {
      try {
        const int fd = take(p->name(), a);
        auto l = fd >= 0 ? std::make_unique<listener>(io_, *p, *this, fd)
                         : std::make_unique<listener>(io_, *p, *this, a, listen_address(cfg_, a),
                                                      static_cast<int>(p->settings().backlog),
                                                      listener_access(p->settings()));
        if (fd >= 0 && !role_.active()) log::info("{}: the socket from systemd (fd {})", l->address(), fd);
        listeners_.push_back({p->name(), a, std::move(l), fd >= 0 && owned(fd)});
      } catch (const std::system_error& e) {
        // e.what() says which step failed (bind, chown, a live server on the path) and why.
        throw std::runtime_error(fmt::format("cannot listen on {}: {}", a, e.what()));
      }
    }
  }
  if (cfg_.stats != "off") {
    try {
      const int fd = take(std::string(stats_socket_name), cfg_.stats);
      if (fd >= 0) {
        stats_server_ = std::make_unique<stats_server>(io_, st_, fd);
      } else {
        const resolved_address where = tcp_address(cfg_, cfg_.stats);
        asio::ip::tcp::endpoint ep;
        std::memcpy(ep.data(), &where.address, std::min<std::size_t>(where.length, ep.capacity()));
        stats_server_ = std::make_unique<stats_server>(io_, st_, ep);
      }
    } catch (const std::system_error& e) {
      throw std::system_error(e.code(), "cannot serve stats on " + cfg_.stats);
    }
    stats_server_->set_history(*history_);
  }
  apply_stats_access();  // --stats-show-query also rules --status-path, with the stats server off
  for (auto& s : inherited) {
    log::info("the socket at {} (fd {}) passed to fcgimux is no listener's; closing it", s.address, s.fd);
    // A unix path the old process bound and this configuration dropped: nobody serves it any more.
    if (owned(s.fd) && s.address.rfind("unix:", 0) == 0) orphan_paths_.push_back(s.address.substr(5));
    ::close(s.fd);
  }
  make_runtime_dir();
  reaper_.start();
  if (!role_.active()) start_serving();
  // Everything that needed all of root is done (listeners bound, the runtime directory made):
  // keep only what workers and reloads need, before the first worker inherits the bounding set.
  // A slow log's needs are those of the pools at start-up: a reload cannot get a capability back.
  slowlog_needs slow;
  for (auto& p : pools_) {
    slow.stacks |= p->settings().slowlog != "off";
    slow.trace |= !p->settings().slowlog_command.empty();
  }
  if (std::string line = drop_capabilities(slow); !line.empty()) log::info("{}", line);
  for (auto& p : pools_) {
    log_worker_identity(p->settings());
    p->start(runtime_dir_);
    const pool_config& c = p->settings();
    log::info("pool {}: {}{} workers: {}", c.name, c.workers,
              c.max_workers > c.workers ? fmt::format(" to {}", c.max_workers) : std::string(),
              fmt::join(c.command, " "));
  }
  if (stats_server_) stats_server_->start_sampling();
  if (role_.active()) log::info("started by SIGUSR2: serving once every pool's workers are ready");
  wait_signal();
  wait_hangup();
  wait_user_signals();
  watch_readiness();
}

// The stats' access settings are the one part of the stats server a SIGHUP changes in place.
void server::apply_stats_access() {
  st_.show_query = cfg_.stats_show_query;
  if (stats_server_) stats_server_->set_access({.allow = cfg_.stats_allow, .token = cfg_.stats_token});
}

void server::start_serving() {
  // The stats line comes first: tools wait for "listening on" and then read both.
  if (stats_server_) {
    stats_server_->start();
    auto ep = stats_server_->local_endpoint();
    log::info("stats on {}:{}", ep.address().to_string(), ep.port());
  }
  for (auto& b : listeners_) {
    b.l->start();
    log::info("listening on {} for pool {}", b.l->address(), b.pool);
  }
  if (cfg_.pidfile.empty()) return;
  if (!role_.active()) {
    write_pidfile(cfg_.pidfile);  // at start-up a failure stops fcgimux, as any other
    return;
  }
  try {
    write_pidfile(cfg_.pidfile);
  } catch (const std::system_error& e) {
    log::info("{}", e.what());
  }
}

void server::wait_user_signals() {
  user_signals_.async_wait([this](const std::error_code& ec, int sig) {
    if (ec) return;
    // Caught so that they cannot end fcgimux by their default action, as they would a worker.
    if (sig == SIGUSR1) {
      // logrotate's postrotate: each file is opened again by its path once what was queued for
      // it is written (base/log_file.hpp); the writer thread does it, not the loop.
      const std::size_t files = log::reopen_files();
      log::notice("SIGUSR1: reopening {} log file{}", files, files == 1 ? "" : "s");
    } else {
      upgrade();
    }
    wait_user_signals();
  });
}

void server::poke() {
  // In steady state nothing waits: no handler is posted per ended request.
  const bool waited_for = watching_ready_ || stopping_ || !retired_.empty() || !closed_listeners_.empty();
  if (poke_posted_ || stopped_ || !waited_for) return;
  poke_posted_ = true;
  asio::post(io_, [this] {
    poke_posted_ = false;
    if (watching_ready_) watch_readiness();
    if (stopping_)
      drain_step();
    else
      retire_step();
  });
}

void server::watch_readiness() {
  watching_ready_ = false;
  if ((!notify_.enabled() && !role_.active()) || stopping_) return;
  std::size_t ready = 0;
  bool all = true;
  for (auto& p : pools_) {
    const pool_snapshot s = p->snapshot(false);
    ready += s.idle + s.busy;
    all = all && s.idle + s.busy >= s.min && s.roll.state != roll_phase::rolling;
  }
  if (all && role_.active()) {
    // The old process tells systemd this one is the service now (MAINPID=), and stops.
    start_serving();
    for (auto& b : listeners_)
      if (b.adopt_path) b.l->own_path();
    for (auto& path : orphan_paths_) ::unlink(path.c_str());
    orphan_paths_.clear();
    report_upgrade_ready(role_);
    adopt_connections();
    log::info("every pool is ready: taking over from the process that started this one");
    return;
  }
  if (all) {
    notify_.send(fmt::format("READY=1\nSTATUS=serving: {} pools, {} workers ready", pools_.size(), ready));
    return;
  }
  watching_ready_ = true;  // a member that becomes ready, or a roll that ends, pokes
}

std::vector<std::shared_ptr<client_connection>> server::open_connections() const {
  // A copy: closing a connection removes it from conns_.
  std::vector<std::shared_ptr<client_connection>> open;
  for (auto& [p, w] : conns_)
    if (auto c = w.lock()) open.push_back(c);
  return open;
}

void server::add(const std::shared_ptr<client_connection>& c) {
  conns_[c.get()] = c;
  ++st_.counts.connections_accepted;
  ++st_.counts.connections_active;
  // Accepted as the listeners stopped: it follows the others (before its reader starts).
  if (stopping_) handed_over_ ? c->hand_over() : c->drain();
}

void server::count_refusal(front_refusal why) noexcept {
  switch (why) {
    case front_refusal::not_allowed: ++st_.counts.connections_refused; break;
    case front_refusal::header_timeout: ++st_.counts.connections_header_timeouts; break;
    case front_refusal::idle_timeout: ++st_.counts.connections_idle_timeouts; break;
  }
}

void server::remove(client_connection* c) {
  if (conns_.erase(c)) {
    FCGIMUX_INVARIANT(st_.counts.connections_active > 0, "a connection is counted out once");
    --st_.counts.connections_active;
    connection_closed_.notify();
    poke();
  }
}

}  // namespace fcgimux
