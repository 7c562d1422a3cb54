// SPDX-License-Identifier: ISC
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

bool http_response::has_header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return true;
  }
  return false;
}

http_connection::http_connection(std::uint16_t port) : port_(port), fd_(connect_to(endpoint::tcp(port))) {
  ignore_sigpipe();
}

bool http_connection::read_more(std::chrono::steady_clock::time_point deadline) {
  if (eof_ || !fd_) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_.get(), POLLIN, 0};
  int rc = ::poll(&p, 1, static_cast<int>(left.count()));
  if (rc <= 0) return false;
  char buf[65536];
  ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
  if (n <= 0) {  // EOF or reset: either way the server is done with us
    eof_ = true;
    return false;
  }
  in_.append(buf, static_cast<std::size_t>(n));
  return true;
}

bool http_connection::send(const std::string& bytes) {
  std::string_view rest = bytes;
  while (!rest.empty()) {
    ssize_t n = ::send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

http_response http_connection::request(const std::string& method, const std::string& target, const std::string& body,
                                       std::chrono::milliseconds timeout, bool keep_alive) {
  if (!fd_) {
    fd_ = connect_to(endpoint::tcp(port_));
    in_.clear();
    eof_ = false;
  }
  if (!fd_) {
    http_response r;
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
  if (!send(req)) {
    http_response r;
    r.error = "send failed";
    fd_.reset();
    return r;
  }
  http_response r = read_response(method == "HEAD", timeout);
  r.keep_alive = r.ok && keep_alive && r.keep_alive;
  if (!r.keep_alive) fd_.reset();
  return r;
}

http_response http_connection::read_response(bool head, std::chrono::milliseconds timeout) {
  http_response r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto fail = [&](std::string why) {
    r.error = std::move(why);
    return r;
  };
  std::size_t head_end;
  while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more(deadline)) return fail("no response head");
  }
  std::string head_text = in_.substr(0, head_end);
  in_.erase(0, head_end + 4);
  auto first_eol = head_text.find("\r\n");
  std::string status_line = head_text.substr(0, first_eol);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return fail("bad status line: " + status_line);
  r.status = std::atoi(status_line.c_str() + 9);
  std::size_t pos = first_eol == std::string::npos ? head_text.size() : first_eol + 2;
  while (pos < head_text.size()) {
    auto eol = head_text.find("\r\n", pos);
    if (eol == std::string::npos) eol = head_text.size();
    std::string line = head_text.substr(pos, eol - pos);
    pos = eol + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers.emplace_back(line.substr(0, colon), value);
  }
  r.keep_alive = !iequals(r.header("Connection"), "close");

  bool no_body = head || r.status == 204 || r.status == 304;
  if (!no_body && iequals(r.header("Transfer-Encoding"), "chunked")) {
    for (;;) {
      std::size_t eol;
      while ((eol = in_.find("\r\n")) == std::string::npos) {
        if (!read_more(deadline)) return fail("truncated chunk size");
      }
      std::size_t size = std::strtoul(in_.c_str(), nullptr, 16);
      in_.erase(0, eol + 2);
      while (in_.size() < size + 2) {
        if (!read_more(deadline)) return fail("truncated chunk after " + std::to_string(r.body.size()) + " body bytes");
      }
      r.body.append(in_, 0, size);
      in_.erase(0, size + 2);
      if (size == 0) break;  // no trailers from nginx
    }
  } else if (!no_body && r.has_header("Content-Length")) {
    std::size_t length = std::strtoul(r.header("Content-Length").c_str(), nullptr, 10);
    while (in_.size() < length) {
      if (!read_more(deadline))
        return fail("truncated body: " + std::to_string(in_.size()) + " of " + std::to_string(length));
    }
    r.body = in_.substr(0, length);
    in_.erase(0, length);
  } else if (!no_body) {
    while (read_more(deadline)) {
    }
    r.body = std::move(in_);
    in_.clear();
    r.keep_alive = false;
  }
  r.ok = true;
  return r;
}

std::optional<std::string> http_connection::read_until_closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!eof_)
    if (!read_more(deadline) && !eof_) return std::nullopt;
  std::string all = std::move(in_);
  in_.clear();
  return all;
}

http_response http_request(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body, std::chrono::milliseconds timeout) {
  http_connection c(port);
  return c.request(method, target, body, timeout, false);
}

http_response http_exchange(std::uint16_t port, const std::string& request, bool head) {
  http_connection c(port);
  if (!c.connected() || !c.send(request)) {
    http_response r;
    r.error = "connect or send failed";
    return r;
  }
  return c.read_response(head);
}

std::string http_get(const std::string& target, const std::string& extra_headers) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

}  // namespace fcgimux::test
