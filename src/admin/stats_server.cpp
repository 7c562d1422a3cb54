// GCC 12 pairs a coroutine frame's class operator delete with the aligned_alloc inside Asio's
// operator new and warns; the two do match (Asio frees with std::free). A false positive.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "src/admin/stats_server.hpp"

#include "src/admin/dashboard_page.hpp"
#include "src/base/log.hpp"

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <array>
#include <ctime>
#include <exception>
#include <list>
#include <optional>
#include <string>
#include <string_view>

namespace fcgimux {

namespace {

using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto nothrow_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// ---- request parsing (RFC 9112, the subset a stats endpoint needs) ----

bool is_tchar(char ch) {
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) return true;
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(ch) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s)
    if (!is_tchar(ch)) return false;
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9112 2.2: a server should ignore empty lines before the request line.
std::size_t leading_empty_lines(std::string_view buf) {
  std::size_t i = 0;
  while (i < buf.size()) {
    if (buf[i] == '\n')
      ++i;
    else if (buf[i] == '\r' && i + 1 < buf.size() && buf[i + 1] == '\n')
      i += 2;
    else
      break;
  }
  return i;
}

// Where the head ends (after its empty line), or npos; bare LF line ends are tolerated. `from` is
// how much was already searched: a client sending one byte at a time must not cost O(n^2).
std::size_t head_end(std::string_view buf, std::size_t from) {
  for (std::size_t i = from > 2 ? from - 2 : 0; i < buf.size(); ++i) {
    if (buf[i] != '\n') continue;
    if (i + 1 < buf.size() && buf[i + 1] == '\n') return i + 2;
    if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

struct request_head {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  int minor_version = 1;
  bool keep_alive = true;
  bool has_body = false;
  std::size_t host_fields = 0;
};

enum class parse_result { ok, bad_request, version_not_supported };

std::string_view next_line(std::string_view& rest) {
  const std::size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool valid_field_value(std::string_view v) {
  for (char ch : v) {
    const auto u = static_cast<unsigned char>(ch);
    if ((u < 0x20 && ch != '\t') || u == 0x7f) return false;
  }
  return true;
}

parse_result parse_request_line(std::string_view line, request_head& req) {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return parse_result::bad_request;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return parse_result::bad_request;
  req.method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(req.method) || target.empty()) return parse_result::bad_request;
  for (char ch : target)
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f)
      return parse_result::bad_request;
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return parse_result::bad_request;
  if (version[5] != '1') return parse_result::version_not_supported;
  req.minor_version = version[7] - '0';
  req.keep_alive = req.minor_version >= 1;

  // absolute-form (RFC 9112 3.2.2) must be accepted; the authority does not matter here
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
      target.remove_prefix(scheme.size());
      const std::size_t slash = target.find('/');
      target = slash == std::string_view::npos ? std::string_view{"/"} : target.substr(slash);
      break;
    }
  }
  const std::size_t q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  return parse_result::ok;
}

parse_result parse_head(std::string_view head, request_head& req) {
  std::string_view rest = head;
  const std::string_view line = next_line(rest);
  if (line.find('\r') != std::string_view::npos) return parse_result::bad_request;
  if (const parse_result r = parse_request_line(line, req); r != parse_result::ok) return r;
  bool saw_close = false, saw_keep_alive = false;
  for (;;) {
    const std::string_view field = next_line(rest);
    if (field.empty()) break;
    if (field.front() == ' ' || field.front() == '\t')  // obs-fold: RFC 9112 5.2 allows a 400
      return parse_result::bad_request;
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) return parse_result::bad_request;
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = trim_ows(field.substr(colon + 1));
    if (!is_token(name) || !valid_field_value(value)) return parse_result::bad_request;
    if (iequals(name, "host")) {
      ++req.host_fields;
    } else if (iequals(name, "content-length")) {
      if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos)
        return parse_result::bad_request;
      if (value.find_first_not_of('0') != std::string_view::npos) req.has_body = true;
    } else if (iequals(name, "transfer-encoding")) {
      req.has_body = true;
    } else if (iequals(name, "connection")) {
      std::string_view tokens = value;
      while (!tokens.empty()) {
        const std::size_t comma = tokens.find(',');
        const std::string_view t = trim_ows(tokens.substr(0, comma));
        if (iequals(t, "close"))
          saw_close = true;
        else if (iequals(t, "keep-alive"))
          saw_keep_alive = true;
        tokens.remove_prefix(comma == std::string_view::npos ? tokens.size() : comma + 1);
      }
    }
  }
  if (saw_close)
    req.keep_alive = false;
  else if (saw_keep_alive)
    req.keep_alive = true;
  // RFC 9112 3.2: an HTTP/1.1 request without exactly one Host is a 400
  if (req.minor_version >= 1 && req.host_fields != 1) return parse_result::bad_request;
  if (req.host_fields > 1) return parse_result::bad_request;
  return parse_result::ok;
}

// The value of `key` in the query (empty for a bare key), or nullopt when absent.
std::optional<std::string_view> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
  }
  return std::nullopt;
}

bool query_has(std::string_view query, std::string_view key) { return query_value(query, key).has_value(); }

// ---- responses ----

struct response {
  int status = 200;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string owned_body;
  std::string_view static_body;  ///< a page compiled in; used when owned_body is empty
  std::string extra_headers;
  bool close = false;

  void set_body(std::string b) { owned_body = std::move(b); }
  // Not a stored view into owned_body: a moved short string would leave it dangling.
  std::string_view body() const { return owned_body.empty() ? static_body : std::string_view{owned_body}; }
};

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

response error_response(int status, bool close) {
  response r;
  r.status = status;
  r.set_body(fmt::format("{} {}\n", status, reason(status)));
  r.close = close;
  return r;
}

std::string http_date() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 64> out{};
  const std::size_t n = std::strftime(out.data(), out.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(out.data(), n);
}

std::string serialize_head(const response& r, bool keep_alive_10) {
  std::string h = fmt::format(
      "HTTP/1.1 {} {}\r\nServer: fcgimux/{}\r\nDate: {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n",
      r.status, reason(r.status), FCGIMUX_VERSION, http_date(), r.content_type, r.body().size());
  h += r.extra_headers;
  if (r.close)
    h += "Connection: close\r\n";
  else if (keep_alive_10)
    h += "Connection: keep-alive\r\n";
  h += "\r\n";
  return h;
}

std::string dump_json(const nlohmann::json& j) {
  // replace, not throw, on invalid UTF-8 (a worker's REQUEST_URI can hold anything)
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

response route(stats& s, const stats_history* history, const request_head& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    response r = error_response(405, true);
    r.extra_headers = "Allow: GET, HEAD\r\n";
    return r;
  }
  if (req.has_body)  // a GET with a body: we will not read it, so the connection cannot go on
    return error_response(400, true);

  response r;
  r.close = !req.keep_alive;
  if (req.path == "/stats") {
    r.content_type = "application/json";
    r.set_body(dump_json(s.to_json(query_has(req.query, "full"))));
  } else if (req.path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.set_body(s.to_prometheus());
  } else if (req.path == "/healthz") {
    // Every pool, or the one named: pool names are [a-z0-9_-], so no decoding is needed.
    bool ok = false;
    if (auto name = query_value(req.query, "pool")) {
      const pool_stats* p = s.find(*name);
      if (!p) return error_response(404, r.close);
      ok = p->snapshot(false).can_serve;
    } else {
      ok = s.can_serve();
    }
    r.status = ok ? 200 : 503;
    r.set_body(ok ? "ok\n" : "unavailable\n");
  } else if (req.path == "/history" && history) {
    nlohmann::json h = history->to_json(query_value(req.query, "pool"));
    if (h.is_null()) return error_response(404, r.close);
    r.content_type = "application/json";
    r.set_body(h.dump() + "\n");
  } else if (req.path == "/") {
    r.content_type = "text/html; charset=utf-8";
    r.static_body = dashboard_html;
    r.extra_headers =
        "Content-Security-Policy: default-src 'self'; script-src 'unsafe-inline'; "
        "style-src 'unsafe-inline'\r\n";
  } else {
    response nf = error_response(404, r.close);
    return nf;
  }
  return r;
}

void log_exception(std::string_view where, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error("stats server {}: {}", where, ex.what());
  } catch (...) {
    log::error("stats server {}: unknown exception", where);
  }
}

}  // namespace

struct stats_server::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io, stats& s, const tcp::endpoint& ep) : stats_(s), acceptor_(io) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
  }
  impl(asio::io_context& io, stats& s, int listening_fd) : stats_(s), acceptor_(io) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(listening_fd, reinterpret_cast<sockaddr*>(&ss), &len);
    acceptor_.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listening_fd);
  }

  awaitable<void> accept_loop(std::shared_ptr<impl> self);
  awaitable<void> session(std::shared_ptr<impl> self, tcp::socket sock);
  awaitable<bool> send(tcp::socket& sock, asio::steady_timer& timer, const response& r, bool head_only,
                       bool keep_alive_10);
  awaitable<void> linger_close(tcp::socket& sock, asio::steady_timer& timer);
  void refuse(tcp::socket sock);
  void stop();

  stats& stats_;
  stats_history* history_ = nullptr;
  tcp::acceptor acceptor_;
  asio::steady_timer sample_timer_{acceptor_.get_executor()};
  limits limits_;
  std::list<tcp::socket*> sessions_;  ///< live sessions, so stop() can close them
  std::size_t connections_ = 0;       ///< sessions spawned and not finished (may not be in sessions_ yet)
  bool stopped_ = false;
  bool refusing_ = false;  ///< logged the connection limit once; cleared when a session ends
};

awaitable<void> stats_server::impl::accept_loop(std::shared_ptr<impl> self) {
  asio::steady_timer backoff(acceptor_.get_executor());
  while (!stopped_) {
    auto [ec, sock] = co_await acceptor_.async_accept(nothrow_awaitable);
    if (ec) {
      if (stopped_ || ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // EMFILE and friends: wait instead of spinning on a listener that stays readable
      log::error("stats server accept: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(nothrow_awaitable);
      continue;
    }
    if (connections_ >= limits_.max_connections) {
      refuse(std::move(sock));
      continue;
    }
    ++connections_;
    asio::co_spawn(acceptor_.get_executor(), session(self, std::move(sock)),
                   [](std::exception_ptr e) { log_exception("session", e); });
  }
}

// Over the limit: a best-effort 503 written without waiting, then close; nothing is allocated.
void stats_server::impl::refuse(tcp::socket sock) {
  static constexpr std::string_view busy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 27\r\n"
      "Retry-After: 1\r\nConnection: close\r\n\r\ntoo many stats connections\n";
  if (!refusing_) {
    log::warning("stats server: {} connections open, refusing more", connections_);
    refusing_ = true;
  }
  asio::error_code ec;
  sock.non_blocking(true, ec);
  sock.write_some(asio::buffer(busy), ec);
  sock.shutdown(tcp::socket::shutdown_both, ec);
  sock.close(ec);
}

awaitable<bool> stats_server::impl::send(tcp::socket& sock, asio::steady_timer& timer, const response& r,
                                         bool head_only, bool keep_alive_10) {
  const std::string head = serialize_head(r, keep_alive_10);
  std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(r.body())};
  if (head_only) bufs[1] = asio::const_buffer{};
  timer.expires_after(limits_.write_timeout);
  auto result = co_await (asio::async_write(sock, bufs, nothrow_awaitable) || timer.async_wait(nothrow_awaitable));
  if (result.index() != 0) co_return false;  // the client did not take the response in time
  auto [ec, n] = std::get<0>(result);
  co_return !ec;
}

// Closing with unread input makes the kernel send RST, which can destroy the response we just
// wrote before the client reads it; half-close and drain briefly first (nginx's lingering close).
awaitable<void> stats_server::impl::linger_close(tcp::socket& sock, asio::steady_timer& timer) {
  asio::error_code ec;
  sock.shutdown(tcp::socket::shutdown_send, ec);
  timer.expires_after(std::min<std::chrono::milliseconds>(limits_.head_timeout, std::chrono::seconds(2)));
  std::array<char, 4096> sink;
  std::size_t drained = 0;
  while (!ec && drained < 256 * 1024) {
    auto result =
        co_await (sock.async_read_some(asio::buffer(sink), nothrow_awaitable) || timer.async_wait(nothrow_awaitable));
    if (result.index() != 0) break;
    std::size_t n = 0;
    std::tie(ec, n) = std::get<0>(result);
    drained += n;
  }
  sock.close(ec);
}

// `self` only keeps the impl alive while the session runs.
awaitable<void> stats_server::impl::session([[maybe_unused]] std::shared_ptr<impl> self, tcp::socket sock) {
  struct registration {
    impl& owner;
    std::list<tcp::socket*>::iterator it;
    ~registration() {
      owner.sessions_.erase(it);
      --owner.connections_;
      owner.refusing_ = false;
    }
  } reg{*this, sessions_.insert(sessions_.end(), &sock)};
  if (stopped_) co_return;

  asio::error_code ec;
  sock.set_option(tcp::no_delay(true), ec);
  asio::steady_timer timer(sock.get_executor());
  std::string buf;
  std::array<char, 4096> chunk;

  while (!stopped_) {
    // The deadline covers the whole head (a client trickling bytes gains nothing) and, before the
    // first byte, the keep-alive idle time.
    timer.expires_after(limits_.head_timeout);
    std::size_t end = std::string_view::npos;
    std::size_t scanned = 0;
    for (;;) {
      if (const std::size_t skip = leading_empty_lines(buf); skip > 0) {
        buf.erase(0, skip);
        scanned = 0;
      }
      end = head_end(buf, scanned);
      if (end != std::string_view::npos || buf.size() > limits_.max_head_bytes) break;
      scanned = buf.size();
      auto result = co_await (sock.async_read_some(asio::buffer(chunk), nothrow_awaitable) ||
                              timer.async_wait(nothrow_awaitable));
      if (result.index() != 0) {
        if (!buf.empty() && !stopped_) {  // a request was under way: tell the client why it ends
          if (co_await send(sock, timer, error_response(408, true), false, false)) co_await linger_close(sock, timer);
        }
        co_return;
      }
      auto [rec, n] = std::get<0>(result);
      if (rec) co_return;  // EOF, reset, or stop(): nothing left to answer
      buf.append(chunk.data(), n);
    }
    if (end == std::string_view::npos || end > limits_.max_head_bytes) {
      if (co_await send(sock, timer, error_response(431, true), false, false)) co_await linger_close(sock, timer);
      co_return;
    }

    request_head req;
    response r;
    switch (parse_head(std::string_view(buf).substr(0, end), req)) {
      case parse_result::ok: try { r = route(stats_, history_, req);
        } catch (const std::exception& ex) {  // rendering allocates; fail this answer, not the server
          log::error("stats server rendering {}: {}", req.path, ex.what());
          r = error_response(500, true);
        }
        break;
      case parse_result::bad_request: r = error_response(400, true); break;
      case parse_result::version_not_supported: r = error_response(505, true); break;
    }
    const bool head_only = req.method == "HEAD";
    const bool keep_alive_10 = req.minor_version == 0 && !r.close;
    buf.erase(0, end);  // req's views die here; the rest may be a pipelined request
    if (!co_await send(sock, timer, r, head_only, keep_alive_10)) co_return;
    if (r.close) {
      co_await linger_close(sock, timer);
      co_return;
    }
  }
}

void stats_server::impl::stop() {
  stopped_ = true;
  sample_timer_.cancel();
  asio::error_code ec;
  acceptor_.close(ec);
  for (tcp::socket* s : sessions_) {
    s->shutdown(tcp::socket::shutdown_both, ec);
    s->close(ec);
  }
}

stats_server::stats_server(asio::io_context& io, stats& s, const tcp::endpoint& ep)
    : impl_(std::make_shared<impl>(io, s, ep)) {}

stats_server::stats_server(asio::io_context& io, stats& s, int listening_fd)
    : impl_(std::make_shared<impl>(io, s, listening_fd)) {}

stats_server::~stats_server() { impl_->stop(); }

int stats_server::native_handle() { return impl_->acceptor_.native_handle(); }

tcp::endpoint stats_server::local_endpoint() const {
  asio::error_code ec;
  return impl_->acceptor_.local_endpoint(ec);
}

void stats_server::set_limits(const limits& l) { impl_->limits_ = l; }

void stats_server::start() {
  asio::co_spawn(impl_->acceptor_.get_executor(), impl_->accept_loop(impl_),
                 [](std::exception_ptr e) { log_exception("accept loop", e); });
}

void stats_server::stop() { impl_->stop(); }

void stats_server::set_history(stats_history& h) { impl_->history_ = &h; }

void stats_server::start_sampling() {
  if (!impl_->history_) return;
  // A fixed cadence from the first sample, not from each handler's run: the series stays on
  // whole seconds however late a turn of the loop runs it.
  struct sampler {
    std::shared_ptr<impl> self;
    clock_type::time_point next;
    void operator()(const std::error_code& ec) {
      if (ec || self->stopped_) return;
      const auto now = clock_type::now();
      self->history_->take(now);
      next += stats_history::interval;
      if (next < now) next = now + stats_history::interval;
      self->sample_timer_.expires_at(next);
      self->sample_timer_.async_wait(std::move(*this));
    }
  };
  sampler{impl_, clock_type::now()}(std::error_code{});
}

}  // namespace fcgimux
