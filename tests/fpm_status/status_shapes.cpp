// SPDX-License-Identifier: ISC
#include "tests/fpm_status/status_shapes.hpp"

#include <nlohmann/json.hpp>

#include <regex>
#include <sstream>
#include <stdexcept>

namespace fcgimux::test {
namespace {

bool looks_numeric(const std::string& v) {
  static const std::regex number(R"(-?[0-9]+(\.[0-9]+)?)");
  return std::regex_match(v, number);
}

shape_field text_field(std::string name, std::string value) {
  const bool number = looks_numeric(value);
  return {std::move(name), number, std::move(value)};
}

// nlohmann::json sorts keys: php-fpm's order is read from the text with ordered_json.
status_shape parse_json(const std::string& body) {
  auto j = nlohmann::ordered_json::parse(body);
  status_shape s;
  for (auto& [k, v] : j.items()) {
    if (k == "processes") {
      for (auto& p : v) {
        std::vector<shape_field> f;
        for (auto& [pk, pv] : p.items())
          f.push_back({pk, pv.is_number(), pv.is_string() ? pv.get<std::string>() : pv.dump()});
        s.processes.push_back(std::move(f));
      }
      continue;
    }
    if (!v.is_number() && !v.is_string()) throw std::runtime_error("json field " + k + " is neither");
    s.pool.push_back({k, v.is_number(), v.is_string() ? v.get<std::string>() : v.dump()});
  }
  return s;
}

status_shape parse_text(const std::string& body) {
  status_shape s;
  std::istringstream in(body);
  std::string line;
  std::vector<shape_field>* into = &s.pool;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line == "************************") {
      s.processes.emplace_back();
      into = &s.processes.back();
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error("text line without ':': " + line);
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    into->push_back(text_field(line.substr(0, colon), value));
  }
  return s;
}

status_shape parse_xml(const std::string& body) {
  status_shape s;
  static const std::regex element(R"(<([a-z-]+)>([^<]*)</\1>)");
  auto processes = body.find("<processes>");
  const std::string head = body.substr(0, processes);
  for (std::sregex_iterator i(head.begin(), head.end(), element), end; i != end; ++i)
    s.pool.push_back(text_field((*i)[1], (*i)[2]));
  if (processes == std::string::npos) return s;
  static const std::regex process(R"(<process>(.*?)</process>)");
  const std::string rest = body.substr(processes);
  for (std::sregex_iterator p(rest.begin(), rest.end(), process), end; p != end; ++p) {
    const std::string one = (*p)[1];
    std::vector<shape_field> f;
    for (std::sregex_iterator i(one.begin(), one.end(), element), e; i != e; ++i) f.push_back(text_field((*i)[1], (*i)[2]));
    s.processes.push_back(std::move(f));
  }
  return s;
}

status_shape parse_html(const std::string& body) {
  status_shape s;
  static const std::regex row(R"(<tr><th>([^<]*)</th><td>([^<]*)</td></tr>)");
  for (std::sregex_iterator i(body.begin(), body.end(), row), end; i != end; ++i)
    s.pool.push_back(text_field((*i)[1], (*i)[2]));
  // The process table: one row of <th> names, then a row of <td> values per process.
  auto table = body.find("<table border=\"1\">");
  if (table == std::string::npos) return s;
  std::istringstream in(body.substr(table));
  std::string line;
  std::vector<std::string> names;
  static const std::regex cell(R"(<t[hd]>([^<]*)</t[hd]>)");
  while (std::getline(in, line)) {
    if (line.rfind("<tr>", 0) != 0) continue;
    std::vector<std::string> cells;
    for (std::sregex_iterator i(line.begin(), line.end(), cell), end; i != end; ++i) cells.push_back((*i)[1]);
    if (line.find("<th>") != std::string::npos) {
      names = cells;
      continue;
    }
    if (cells.size() != names.size()) throw std::runtime_error("html process row of another width: " + line);
    std::vector<shape_field> f;
    for (std::size_t k = 0; k < cells.size(); ++k) f.push_back(text_field(names[k], cells[k]));
    s.processes.push_back(std::move(f));
  }
  return s;
}

status_shape parse_openmetrics(const std::string& body) {
  status_shape s;
  std::istringstream in(body);
  std::string line;
  bool eof = false;
  while (std::getline(in, line)) {
    if (line == "# EOF") {
      eof = true;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      s.pool.push_back({line.substr(2), false, ""});  // "TYPE phpfpm_up gauge": name and type
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) {
      auto name_end = line.find(' ', 7);
      s.pool.push_back({"HELP " + line.substr(7, name_end - 7), false, ""});
      continue;
    }
    auto space = line.find(' ');
    if (space == std::string::npos) throw std::runtime_error("openmetrics line: " + line);
    s.pool.push_back(text_field(line.substr(0, space), line.substr(space + 1)));
  }
  if (!eof) throw std::runtime_error("openmetrics without # EOF");
  return s;
}

}  // namespace

std::string status_shape::value(const std::string& name) const {
  for (const auto& f : pool)
    if (f.name == name) return f.value;
  return {};
}

status_shape parse_status(const std::string& format, const std::string& body) {
  if (format == "json") return parse_json(body);
  if (format == "xml") return parse_xml(body);
  if (format == "html") return parse_html(body);
  if (format == "openmetrics") return parse_openmetrics(body);
  return parse_text(body);
}

}  // namespace fcgimux::test
