// SPDX-License-Identifier: ISC
// kfcgi(8)'s command line as fcgimux options. Read from kcgi's kfcgi.c and kfcgi.8: defaults
// (5 workers, socket /var/www/run/httpd.sock, jail /var/www, backlog twice the pool, idle 300 s),
// the ranges of its numbers and how -r, -N and -n combine are kfcgi's own.

#include "src/config/compat.hpp"
#include "src/config/config.hpp"

#include <fmt/core.h>

#include <climits>
#include <optional>

namespace fcgimux {

using config_detail::foreign_number;

std::vector<std::string> translate_kfcgi(const std::vector<std::string>& args) {
  constexpr std::string_view tool = "kfcgi";
  const auto line = config_detail::split_foreign(tool, "l:p:n:N:s:u:U:rvdw:", args);

  long workers = 5;
  std::optional<long> max_workers, backlog, wait;
  std::string jail = "/var/www";
  std::string socket = "/var/www/run/httpd.sock";
  std::string sock_user, proc_user;
  bool variable = false, verbose = false, foreground = false;
  for (const auto& [flag, value] : line.flags) {
    switch (flag) {
      case 'l': backlog = foreign_number(tool, flag, value, 1, INT_MAX); break;
      case 'n': workers = foreign_number(tool, flag, value, 0, INT_MAX); break;
      case 'N': max_workers = foreign_number(tool, flag, value, 0, INT_MAX); break;
      case 'w': wait = foreign_number(tool, flag, value, 0, INT_MAX); break;
      case 'p': jail = value; break;
      case 's': socket = value; break;
      case 'u': sock_user = value; break;
      case 'U': proc_user = value; break;
      case 'r': variable = true; break;
      case 'v': verbose = true; break;
      case 'd': foreground = true; break;
    }
  }
  if (line.informs()) return line.own;
  if (line.program.empty())
    throw config_error(
        "kfcgi: no prog given (kfcgi [-drv] [-l backlog] [-n workers] [-N maxworkers] [-p chroot] [-s sockpath] "
        "[-u sockuser] [-U procuser] [-w waittime] [--] prog [arg...])");
  // As kfcgi: -N counts only with -r, where -N equal to -n means a fixed pool and a smaller one is
  // a usage error; without -N a variable pool may double.
  if (variable && max_workers) {
    if (*max_workers < workers)
      throw config_error(fmt::format("kfcgi: -N ({}) is smaller than -n ({})", *max_workers, workers));
    if (*max_workers == workers) variable = false;
  }
  const long pool_max = variable ? max_workers.value_or(2 * workers) : workers;

  std::vector<std::string> out = {// kfcgi opens no port but its socket: no stats endpoint unless --stats asks for one.
                                  "--stats", "off", "--listen", "unix:" + socket, "--workers", std::to_string(workers),
                                  // kfcgi's default backlog: twice the most workers the pool may have.
                                  "--backlog", std::to_string(backlog.value_or(2 * pool_max)),
                                  // kcgi programs exit on FCGI_KEEP_CONN; a connection per request is also what kfcgi's
                                  // workers got from the web server. --keep-conn auto|yes after this wins.
                                  "--keep-conn", "no"};
  if (variable) {
    out.push_back("--variable");
    if (max_workers) out.insert(out.end(), {"--max-workers", std::to_string(*max_workers)});
  }
  if (wait) out.insert(out.end(), {"--idle-timeout", std::to_string(*wait)});
  // kfcgi always chroots (its manual: "use the root directory if you insist on being insecure");
  // a jail of / is none, and needs no root.
  if (jail != "/") out.insert(out.end(), {"--chroot", jail});
  // The socket's mode is kfcgi's 0660 by fcgimux's own default for unix listeners.
  if (!sock_user.empty()) out.insert(out.end(), {"--socket-owner", sock_user});
  if (!proc_user.empty()) out.insert(out.end(), {"--user", proc_user});
  if (verbose) out.push_back("--verbose");
  if (!foreground) out.insert(out.end(), {"--daemon", "--error-log", "syslog"});
  // fcgimux's own options come last so that they win over the translation.
  out.insert(out.end(), line.own.begin(), line.own.end());
  out.push_back("--");
  out.insert(out.end(), line.program.begin(), line.program.end());
  return out;
}

}  // namespace fcgimux
