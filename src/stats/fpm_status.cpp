// SPDX-License-Identifier: ISC
#include "src/stats/fpm_status.hpp"

#include "src/stats/stats.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <utility>

namespace fcgimux {
namespace {

// The pool's fields, in php-fpm's order: its label (text, html), and whether it is a number.
struct field {
  const char* label;
  bool number;
  std::string value;
};

std::string wall_time(std::time_t t) {
  // php-fpm's text and html show local time as its access log does.
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%d/%b/%Y:%H:%M:%S %z", &tm);
  return std::string(buf, n);
}

std::vector<field> pool_fields(const fpm_status& s, bool dates) {
  auto num = [](std::uint64_t v) { return std::to_string(v); };
  return {{"pool", false, s.pool},
          {"process manager", false, s.process_manager},
          {"start time", !dates, dates ? wall_time(s.start_time) : std::to_string(s.start_time)},
          {"start since", true, num(s.start_since)},
          {"accepted conn", true, num(s.accepted_conn)},
          {"listen queue", true, num(s.listen_queue)},
          {"max listen queue", true, num(s.max_listen_queue)},
          {"listen queue len", true, num(s.listen_queue_len)},
          {"idle processes", true, num(s.idle_processes)},
          {"active processes", true, num(s.active_processes)},
          {"total processes", true, num(s.total_processes)},
          {"max active processes", true, num(s.max_active_processes)},
          {"max children reached", true, num(s.max_children_reached)},
          {"slow requests", true, num(s.slow_requests)}};
}

std::vector<field> process_fields(const fpm_process& p, bool dates) {
  auto num = [](std::uint64_t v) { return std::to_string(v); };
  return {{"pid", true, std::to_string(p.pid)},
          {"state", false, p.state},
          {"start time", !dates, dates ? wall_time(p.start_time) : std::to_string(p.start_time)},
          {"start since", true, num(p.start_since)},
          {"requests", true, num(p.requests)},
          {"request duration", true, num(p.request_duration_us)},
          {"request method", false, p.request_method},
          {"request uri", false, p.request_uri},
          {"content length", true, num(p.content_length)},
          {"user", false, p.user},
          {"script", false, p.script},
          {"last request cpu", true, fmt::format("{:.2f}", p.last_request_cpu)},
          {"last request memory", true, num(p.last_request_memory)}};
}

std::string json_string(const std::string& v) {
  // replace, not throw, on invalid UTF-8: a request's URI can hold anything
  return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string markup_escape(std::string_view v) {
  std::string out;
  for (char c : v) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  return out;
}

// XML element names are the labels with dashes: "max-listen-queue".
std::string tag(const char* label) {
  std::string t(label);
  for (char& c : t)
    if (c == ' ') c = '-';
  return t;
}

std::string json_object(const std::vector<field>& fs) {
  std::string out = "{";
  for (std::size_t i = 0; i < fs.size(); ++i) {
    if (i) out += ',';
    out += fmt::format("\"{}\":{}", fs[i].label, fs[i].number ? fs[i].value : json_string(fs[i].value));
  }
  return out;
}

fpm_page render_json(const fpm_status& s, bool full) {
  std::string out = json_object(pool_fields(s, false));
  if (full) {
    out += ", \"processes\":[";
    for (std::size_t i = 0; i < s.processes.size(); ++i) {
      if (i) out += ',';
      out += json_object(process_fields(s.processes[i], false)) + "}";
    }
    out += "]";
  }
  return {"application/json", out + "}"};
}

fpm_page render_text(const fpm_status& s, bool full) {
  std::string out;
  auto lines = [&](const std::vector<field>& fs, bool process) {
    for (const field& f : fs) {
      // php-fpm's text says "request URI" where every other shape says "request uri".
      std::string label = process && std::string_view(f.label) == "request uri" ? "request URI" : f.label;
      out += fmt::format("{:<22}{}\n", label + ":", f.value);
    }
  };
  lines(pool_fields(s, true), false);
  if (full)
    for (const fpm_process& p : s.processes) {
      out += "\n************************\n";
      lines(process_fields(p, true), true);
    }
  return {"text/plain;charset=UTF-8", out};
}

fpm_page render_xml(const fpm_status& s, bool full) {
  std::string out = "<?xml version=\"1.0\" ?>\n<status>\n";
  for (const field& f : pool_fields(s, false))
    out += fmt::format("<{0}>{1}</{0}>\n", tag(f.label), markup_escape(f.value));
  if (full) {
    out += "<processes>\n";
    for (const fpm_process& p : s.processes) {
      out += "<process>";
      for (const field& f : process_fields(p, false))
        out += fmt::format("<{0}>{1}</{0}>", tag(f.label), markup_escape(f.value));
      out += "</process>\n";
    }
    out += "</processes>\n";
  }
  return {"text/xml;charset=UTF-8", out + "</status>\n"};
}

fpm_page render_html(const fpm_status& s, bool full) {
  std::string out =
      "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "
      "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n"
      "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
      "<head><title>PHP-FPM Status Page</title></head>\n<body>\n<table>\n";
  for (const field& f : pool_fields(s, true))
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", f.label, markup_escape(f.value));
  out += "</table>\n";
  if (!full) return {"text/html;charset=UTF-8", out + "</body></html>\n"};
  out += "<table border=\"1\">\n<tr>";
  for (const field& f : process_fields(fpm_process{}, true)) out += fmt::format("<th>{}</th>", f.label);
  out += "</tr>\n";
  for (const fpm_process& p : s.processes) {
    out += "<tr>";
    for (const field& f : process_fields(p, true)) out += fmt::format("<td>{}</td>", markup_escape(f.value));
    out += "</tr>\n";
  }
  return {"text/html;charset=UTF-8", out + "</table></body></html>\n"};
}

fpm_page render_openmetrics(const fpm_status& s) {
  std::string out = fmt::format(
      "# HELP phpfpm_up Could pool {} using a {} PM on PHP-FPM be reached?\n# TYPE phpfpm_up gauge\nphpfpm_up 1\n",
      s.pool, s.process_manager);
  auto metric = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    // php-fpm 8.2 writes this one series' TYPE before its HELP: kept, for byte-for-byte readers.
    if (std::string_view(name) == "listen_queue_length")
      out += fmt::format("# TYPE phpfpm_{0} {1}\n# HELP phpfpm_{0} {2}\nphpfpm_{0} {3}\n", name, type, help, v);
    else
      out += fmt::format("# HELP phpfpm_{0} {2}\n# TYPE phpfpm_{0} {1}\nphpfpm_{0} {3}\n", name, type, help, v);
  };
  metric("start_since", "counter", "The number of seconds since FPM has started.", s.start_since);
  metric("accepted_connections", "counter", "The number of requests accepted by the pool.", s.accepted_conn);
  metric("listen_queue", "gauge", "The number of requests in the queue of pending connections.", s.listen_queue);
  metric("max_listen_queue", "counter",
         "The maximum number of requests in the queue of pending connections since FPM has started.",
         s.max_listen_queue);
  metric("listen_queue_length", "gauge", "The size of the socket queue of pending connections.", s.listen_queue_len);
  metric("idle_processes", "gauge", "The number of idle processes.", s.idle_processes);
  metric("active_processes", "gauge", "The number of active processes.", s.active_processes);
  metric("total_processes", "gauge", "The number of idle + active processes.", s.total_processes);
  metric("max_active_processes", "counter", "The maximum number of active processes since FPM has started.",
         s.max_active_processes);
  metric("max_children_reached", "counter",
         "The number of times, the process limit has been reached, when pm tries to start more children (works "
         "only for pm 'dynamic' and 'ondemand').",
         s.max_children_reached);
  metric("slow_requests", "counter", "The number of requests that exceeded your 'request_slowlog_timeout' value.",
         s.slow_requests);
  return {"application/openmetrics-text; version=1.0.0; charset=utf-8", out + "# EOF\n"};
}

}  // namespace

fpm_query parse_fpm_query(std::string_view query) {
  fpm_query q;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view word = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (word == "full")
      q.full = true;
    else if (word == "json")
      q.format = fpm_format::json;
    else if (word == "xml")
      q.format = fpm_format::xml;
    else if (word == "html")
      q.format = fpm_format::html;
    else if (word == "openmetrics")
      q.format = fpm_format::openmetrics;
  }
  return q;
}

fpm_status fpm_status_of(std::string_view pool, std::string_view process_manager, const pool_stats& st,
                         const pool_snapshot& snap, std::time_t start_time, std::uint64_t since, bool show_query) {
  fpm_status s;
  s.pool = pool;
  s.process_manager = process_manager;
  s.start_time = start_time;
  s.start_since = since;
  s.accepted_conn = st.counts.requests_accepted;
  s.listen_queue = snap.queue_length;
  s.max_listen_queue = st.counts.queue_peak;
  s.listen_queue_len = snap.queue_limit;
  s.idle_processes = snap.idle;
  s.active_processes = snap.busy;
  s.total_processes = snap.idle + snap.busy;
  s.max_active_processes = st.counts.busy_peak;
  s.max_children_reached = st.counts.max_workers_reached;
  s.slow_requests = st.counts.requests_slow;
  const std::time_t now = start_time + static_cast<std::time_t>(since);
  for (const worker_info& w : snap.workers) {
    fpm_process p;
    p.pid = w.pid;
    p.state = w.state == member_state::busy ? "Running" : w.state == member_state::stopping ? "Ending" : "Idle";
    p.start_since = static_cast<std::uint64_t>(w.uptime_s);
    p.start_time = now - static_cast<std::time_t>(p.start_since);
    p.requests = w.requests;
    if (w.has_current) {
      p.request_duration_us = static_cast<std::uint64_t>(w.current_elapsed_ms * 1000);
      // A query string often carries a session id or a token: cut, unless --stats-show-query.
      p.request_uri = show_query ? w.current_uri : w.current_uri.substr(0, w.current_uri.find('?'));
      if (!w.current_method.empty()) p.request_method = w.current_method;
      if (!w.current_script.empty()) p.script = w.current_script;
      if (!w.current_user.empty()) p.user = w.current_user;
      p.content_length = w.current_length;
    }
    // php-fpm shows the last request's figures while its process waits for the next one, and 0
    // while it serves one.
    if (w.state == member_state::idle) {
      p.last_request_cpu = w.last_request_cpu;
      p.last_request_memory = w.last_request_memory;
    }
    s.processes.push_back(std::move(p));
  }
  return s;
}

fpm_page fpm_status_page(const stats& process, std::string_view name, pool_stats& st, std::string_view query) {
  const fpm_query q = parse_fpm_query(query);
  // Measured from the first look on: a pool nobody asks about pays nothing for it.
  if (q.full && q.format != fpm_format::openmetrics) st.usage_wanted = true;
  const pool_snapshot snap = st.snapshot(q.full);
  const auto since = std::chrono::duration_cast<std::chrono::seconds>(clock_type::now() - process.started);
  const std::time_t started = process.started_wall;
  // php-fpm's names for fcgimux's pool shapes: a fixed size, a range, or none kept ready.
  const char* pm = snap.max <= snap.min ? "static" : snap.min == 0 ? "ondemand" : "dynamic";
  return render_fpm_status(
      fpm_status_of(name, pm, st, snap, started, static_cast<std::uint64_t>(since.count()), process.show_query), q);
}

fpm_page render_fpm_status(const fpm_status& s, fpm_query q) {
  switch (q.format) {
    case fpm_format::json: return render_json(s, q.full);
    case fpm_format::xml: return render_xml(s, q.full);
    case fpm_format::html: return render_html(s, q.full);
    case fpm_format::openmetrics: return render_openmetrics(s);
    case fpm_format::text: break;
  }
  return render_text(s, q.full);
}

}  // namespace fcgimux
