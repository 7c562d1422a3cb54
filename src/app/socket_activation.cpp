#include "src/app/socket_activation.hpp"

#include "src/front/listener.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace fcgimux {
namespace {

constexpr int first_fd = 3;  // SD_LISTEN_FDS_START

long number_of(const char* text) {
  if (!text) return -1;
  long v = -1;
  std::string_view s(text);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size() ? v : -1;
}

}  // namespace

std::vector<inherited_socket> take_inherited_sockets() {
  std::vector<inherited_socket> out;
  const long pid = number_of(std::getenv("LISTEN_PID"));
  const long n = number_of(std::getenv("LISTEN_FDS"));
  const char* names = std::getenv("LISTEN_FDNAMES");
  std::string_view rest = names ? names : "";
  if (pid == ::getpid() && n > 0) {
    for (long i = 0; i < n; ++i) {
      inherited_socket s;
      s.fd = first_fd + static_cast<int>(i);
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
