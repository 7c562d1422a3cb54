// SPDX-License-Identifier: ISC
#include "src/app/socket_activation.hpp"

#include "src/app/decimal.hpp"
#include "src/front/socket_address.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace fcgimux {

std::vector<inherited_socket> take_inherited_sockets() {
  std::vector<inherited_socket> out;
  const char* pid_text = std::getenv("LISTEN_PID");
  const char* n_text = std::getenv("LISTEN_FDS");
  const long pid = decimal_of(pid_text ? pid_text : "");
  const long n = decimal_of(n_text ? n_text : "");
  const char* names = std::getenv("LISTEN_FDNAMES");
  std::string_view rest = names ? names : "";
  if (pid == ::getpid() && n > 0) {
    for (long i = 0; i < n; ++i) {
      inherited_socket s;
      s.fd = listen_fds_start + static_cast<int>(i);
      ::fcntl(s.fd, F_SETFD, FD_CLOEXEC);
      s.address = socket_address(s.fd);
      const std::size_t colon = rest.find(':');
      s.name = std::string(rest.substr(0, colon));
      if (s.name == "unknown") s.name.clear();
      rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon + 1);
      out.push_back(std::move(s));
    }
  }
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return out;
}

}  // namespace fcgimux
