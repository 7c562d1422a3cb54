#include "tests/support/http_client.hpp"

#include "tests/support/cgi_response.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>

namespace fcgimux::test {

std::string http_response::header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return {};
}

http_connection::http_connection(std::uint16_t port) : port_(port), fd_(connect_to(endpoint::tcp(port))) {
  ignore_sigpipe();
}

bool http_connection::read_more(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_.get(), POLLIN, 0};
  int rc = ::poll(&p, 1, static_cast<int>(left.count()));
  if (rc <= 0) return false;
  char buf[65536];
  ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
  if (n <= 0) return false;
  in_.append(buf, static_cast<std::size_t>(n));
  return true;
}

http_response http_connection::request(const std::string& method, const std::string& target, const std::string& body,
                                       std::chrono::milliseconds timeout, bool keep_alive) {
  http_response r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!fd_) {
    fd_ = connect_to(endpoint::tcp(port_));
    in_.clear();
  }
  if (!fd_) {
    r.error = "connect failed";
    return r;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!body.empty() || method == "POST") {
    req += "Content-Type: application/octet-stream\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (!keep_alive) req += "Connection: close\r\n";
  req += "\r\n";
  req += body;
  // Blocking send is safe: nginx reads the whole request body before it answers.
  std::string_view rest = req;
  while (!rest.empty()) {
    ssize_t n = ::send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.error = "send failed";
      fd_.reset();
      return r;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }

  std::size_t head_end;
  while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more(deadline)) {
      r.error = "no response head";
      fd_.reset();
      return r;
    }
  }
  std::string head = in_.substr(0, head_end);
  in_.erase(0, head_end + 4);
  auto first_eol = head.find("\r\n");
  std::string status_line = head.substr(0, first_eol);
  auto sp = status_line.find(' ');
  r.status = sp == std::string::npos ? 0 : std::atoi(status_line.c_str() + sp + 1);
  std::size_t pos = first_eol == std::string::npos ? head.size() : first_eol + 2;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    std::string line = head.substr(pos, eol - pos);
    pos = eol + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers.emplace_back(line.substr(0, colon), value);
  }
  r.keep_alive = keep_alive && !iequals(r.header("Connection"), "close");

  bool head_only = method == "HEAD" || r.status == 204 || r.status == 304;
  if (!head_only && iequals(r.header("Transfer-Encoding"), "chunked")) {
    for (;;) {
      std::size_t eol;
      while ((eol = in_.find("\r\n")) == std::string::npos) {
        if (!read_more(deadline)) {
          r.error = "truncated chunk size";
          fd_.reset();
          return r;
        }
      }
      std::size_t size = std::strtoul(in_.c_str(), nullptr, 16);
      in_.erase(0, eol + 2);
      while (in_.size() < size + 2) {
        if (!read_more(deadline)) {
          r.error = "truncated chunk after " + std::to_string(r.body.size()) + " body bytes";
          fd_.reset();
          return r;
        }
      }
      r.body.append(in_, 0, size);
      in_.erase(0, size + 2);
      if (size == 0) break;  // no trailers from nginx
    }
  } else if (!head_only && !r.header("Content-Length").empty()) {
    std::size_t length = std::strtoul(r.header("Content-Length").c_str(), nullptr, 10);
    while (in_.size() < length) {
      if (!read_more(deadline)) {
        r.error = "truncated body: " + std::to_string(in_.size()) + " of " + std::to_string(length);
        fd_.reset();
        return r;
      }
    }
    r.body = in_.substr(0, length);
    in_.erase(0, length);
  } else if (!head_only) {
    while (read_more(deadline)) {
    }
    r.body = std::move(in_);
    in_.clear();
    r.keep_alive = false;
  }
  r.ok = true;
  if (!r.keep_alive) fd_.reset();
  return r;
}

http_response http_request(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body, std::chrono::milliseconds timeout) {
  http_connection c(port);
  return c.request(method, target, body, timeout, false);
}

}  // namespace fcgimux::test
