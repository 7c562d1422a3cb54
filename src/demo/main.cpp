// SPDX-License-Identifier: ISC
// fcgimux-demo: a spawn-fcgi-style FastCGI responder whose behaviour each request's query string
// scripts; see usage_text().

#include "demo_connection.hpp"
#include "demo_options.hpp"
#include "listen_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  using namespace fcgimux::demo;
  parse_result parsed = parse_options(argc, argv);
  if (parsed.help) {
    std::fputs(usage_text(), stdout);
    return 0;
  }
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "fcgimux-demo: %s\n", parsed.error.c_str());
    return 2;
  }
  const demo_options& options = parsed.options;
  std::signal(SIGPIPE, SIG_IGN);

  int listen_fd = 0;
  if (!options.listen.empty()) {
    std::string error;
    listen_fd = open_listen_socket(options.listen, error);
    if (listen_fd < 0) {
      std::fprintf(stderr, "fcgimux-demo: %s\n", error.c_str());
      return 2;
    }
    std::fprintf(stderr, "fcgimux-demo: listening on %s\n", options.listen.c_str());
  } else if (!is_listening_socket(0)) {
    std::fprintf(stderr, "fcgimux-demo: fd 0 is not a listening socket (use --listen ADDR)\n");
    return 2;
  }

  std::uint64_t served = 0;
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      std::fprintf(stderr, "fcgimux-demo: accept: %s\n", std::strerror(errno));
      return 1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // fails harmlessly on unix sockets
    serve_connection(fd, options, served);
    if (options.max_requests != 0 && served >= options.max_requests) return 0;
  }
}
