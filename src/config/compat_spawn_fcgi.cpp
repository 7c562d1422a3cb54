// SPDX-License-Identifier: ISC
// spawn-fcgi's command line as fcgimux options. Read from lighttpd's spawn-fcgi.c and spawn-fcgi.1:
// one fork by default, backlog 1024, a TCP port on 0.0.0.0 unless -a names an address, the socket
// created inside the chroot unless -S, the socket owned by -u/-g unless -U/-G, no uid or gid 0.
// The one change of meaning: spawn-fcgi exits once its children run, fcgimux stays and supervises
// them, in the background (writing -P) unless -n.

#include "src/config/compat.hpp"
#include "src/config/config.hpp"

#include <fmt/core.h>

#include <arpa/inet.h>
#include <grp.h>
#include <pwd.h>
#include <sys/un.h>

#include <charconv>
#include <climits>
#include <optional>

namespace fcgimux {
namespace {

using config_detail::foreign_number;
constexpr std::string_view tool = "spawn-fcgi";

// spawn-fcgi refuses to make its workers root (find_user_group()); so does this mode.
void refuse_root(char flag, const std::string& name, bool is_group) {
  unsigned id = 1;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
  const bool numeric = ec == std::errc{} && p == name.data() + name.size();
  if (!numeric) {
    if (is_group) {
      if (const struct group* g = ::getgrnam(name.c_str())) id = g->gr_gid;
    } else if (const passwd* pw = ::getpwnam(name.c_str())) {
      id = pw->pw_uid;
    }
  }
  if (id == 0)
    throw config_error(fmt::format("spawn-fcgi: -{}: I will not set {} to 0", flag, is_group ? "gid" : "uid"));
}

std::string octal_mode(const std::string& v) {
  unsigned mode = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), mode, 8);
  if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || mode > 07777)
    throw config_error(fmt::format("spawn-fcgi: -M: '{}' is not an octal mode", v));
  return fmt::format("0{:o}", mode);
}

// A path as the chrooted spawn-fcgi would have created it, seen from outside the jail.
std::string inside(const std::string& jail, const std::string& path) {
  std::string j = jail;
  while (j.size() > 1 && j.back() == '/') j.pop_back();
  if (j == "/") return path.front() == '/' ? path : "/" + path;
  return path.front() == '/' ? j + path : j + "/" + path;
}

}  // namespace

std::vector<std::string> translate_spawn_fcgi(const std::vector<std::string>& args) {
  const auto line = config_detail::split_foreign(tool, "c:d:f:g:?hna:p:b:u:vC:F:s:P:U:G:M:S", args);

  std::string shell_app, chdir_to, address, socket, jail, user, group, sock_user, sock_group, mode, pidfile;
  long port = 0, forks = 1, backlog = 1024;
  std::optional<long> children;
  bool foreground = false, socket_outside = false;
  for (const auto& [flag, value] : line.flags) {
    switch (flag) {
      case 'h':
      case '?': return {"--help"};
      case 'v': return {"--version"};
      case 'f': shell_app = value; break;
      case 'd': chdir_to = value; break;
      case 'a': address = value; break;
      case 'p': port = foreign_number(tool, flag, value, 1, 65535); break;
      case 'C': children = foreign_number(tool, flag, value, 0, INT_MAX); break;
      case 'F': forks = foreign_number(tool, flag, value, 0, INT_MAX); break;
      case 'b': backlog = foreign_number(tool, flag, value, 0, INT_MAX); break;
      case 's': socket = value; break;
      case 'c': jail = value; break;
      case 'u': user = value; break;
      case 'g': group = value; break;
      case 'U': sock_user = value; break;
      case 'G': sock_group = value; break;
      case 'S': socket_outside = true; break;
      case 'M': mode = octal_mode(value); break;
      case 'n': foreground = true; break;
      case 'P': pidfile = value; break;
    }
  }
  if (line.informs()) return line.own;
  if (line.program.empty() && shell_app.empty())
    throw config_error("spawn-fcgi: no FastCGI application given (spawn-fcgi [options] -- PROGRAM [ARGS...])");
  if (port == 0 && socket.empty()) throw config_error("spawn-fcgi: no socket given (use either -p or -s)");
  if (port != 0 && !socket.empty())
    throw config_error("spawn-fcgi: either a Unix domain socket or a TCP-port, but not both");
  if (socket.size() > sizeof(sockaddr_un::sun_path) - 1)
    throw config_error("spawn-fcgi: path of the Unix domain socket is too long");
  if (!user.empty()) refuse_root('u', user, false);
  if (!group.empty()) refuse_root('g', group, true);
  if (!sock_user.empty()) refuse_root('U', sock_user, false);
  if (!sock_group.empty()) refuse_root('G', sock_group, true);

  std::vector<std::string> out = {
      "--stats", "off", "--workers", std::to_string(forks), "--backlog", std::to_string(backlog)};
  if (!socket.empty()) {
    // Without -S the chrooted spawn-fcgi created its socket inside the jail.
    out.push_back("--listen");
    out.push_back("unix:" + (jail.empty() || socket_outside ? socket : inside(jail, socket)));
    if (!mode.empty()) out.insert(out.end(), {"--socket-mode", mode});
    // The socket belongs to -U (else -u), its group to -G, else to -U's primary group, else -g.
    const std::string owner = sock_user.empty() ? user : sock_user;
    const std::string owner_group = !sock_group.empty() ? sock_group : sock_user.empty() ? group : std::string();
    if (!owner.empty() || !owner_group.empty())
      out.insert(out.end(), {"--socket-owner", owner_group.empty() ? owner : fmt::format("{}:{}", owner, owner_group)});
  } else {
    // No -a: spawn-fcgi binds INADDR_ANY. Like spawn-fcgi, only numeric addresses.
    std::string host = address.empty() ? "0.0.0.0" : address;
    unsigned char buf[sizeof(in6_addr)];
    if (::inet_pton(AF_INET, host.c_str(), buf) == 1) {
      out.insert(out.end(), {"--listen", fmt::format("{}:{}", host, port)});
    } else if (::inet_pton(AF_INET6, host.c_str(), buf) == 1) {
      out.insert(out.end(), {"--listen", fmt::format("[{}]:{}", host, port)});
    } else {
      throw config_error(fmt::format("spawn-fcgi: '{}' is not a valid IP address", host));
    }
  }
  if (!jail.empty()) out.insert(out.end(), {"--chroot", jail});
  if (!chdir_to.empty()) out.insert(out.end(), {"--chdir", chdir_to});
  if (!user.empty()) out.insert(out.end(), {"--user", user});
  if (!group.empty()) out.insert(out.end(), {"--group", group});
  if (children) out.insert(out.end(), {"--env", fmt::format("PHP_FCGI_CHILDREN={}", *children)});
  // spawn-fcgi ignores -P with -n; otherwise the pid file names the daemon, not each worker.
  if (!foreground) {
    out.push_back("--daemon");
    if (!pidfile.empty()) out.insert(out.end(), {"--pidfile", pidfile});
  }
  out.insert(out.end(), line.own.begin(), line.own.end());
  out.push_back("--");
  if (!line.program.empty()) {
    out.insert(out.end(), line.program.begin(), line.program.end());
  } else {
    // -f: spawn-fcgi's deprecated form, run through the shell as it did.
    out.insert(out.end(), {"/bin/sh", "-c", "exec " + shell_app});
  }
  return out;
}

}  // namespace fcgimux
