// SPDX-License-Identifier: ISC
#include "src/config/fpm_ini.hpp"

#include "src/config/config.hpp"

#include <fmt/core.h>

#include <glob.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace fcgimux::config_detail {
namespace {

constexpr int max_include_depth = 5;  // php-fpm: "You can include more than 5 files recursively"

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

std::optional<std::string> getenv_lookup(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

// `${NAME}` at `s[i]` (i at '$'): appends the variable's value and returns the index past '}'.
std::size_t expand_variable(std::string_view s, std::size_t i, std::string& out, const env_lookup& env) {
  const auto close = s.find('}', i + 2);
  if (close == std::string_view::npos) throw config_error("'${' without its '}'");
  const std::string name(s.substr(i + 2, close - i - 2));
  if (name.empty()) throw config_error("'${}' names no variable");
  out += env(name).value_or("");
  return close + 1;
}

class reader {
 public:
  reader(std::string prefix, env_lookup env) : prefix_(std::move(prefix)), env_(std::move(env)) {}

  void read(const std::string& path, int depth) {
    if (depth >= max_include_depth)
      throw config_error(fmt::format("{}: more than {} files included one in another", path, max_include_depth));
    std::ifstream in(path);
    if (!in) throw config_error(fmt::format("{}: cannot open it", path));
    std::string text;
    int line_no = 0;
    while (std::getline(in, text)) {
      ++line_no;
      std::string include;
      try {
        include = read_line(text, path, line_no);
      } catch (const config_error& e) {
        throw config_error(fmt::format("{}:{}: {}", path, line_no, e.what()));
      }
      // As php-fpm: the include is followed once its line is done.
      if (!include.empty()) follow_include(include, path, line_no, depth);
    }
  }

  fpm_file take() { return std::move(out_); }

 private:
  // Returns the pattern of an `include` line, empty otherwise.
  std::string read_line(std::string_view text, const std::string& path, int line_no) {
    const auto line = trim(text);
    if (line.empty() || line.front() == ';' || line.front() == '#') return {};
    if (line.front() == '[') {
      const auto close = line.find(']');
      if (close == std::string_view::npos) throw config_error("a section without its ']'");
      if (!trim(line.substr(close + 1)).empty() && trim(line.substr(close + 1)).front() != ';')
        throw config_error("text after a section's ']'");
      std::string name(trim(line.substr(1, close - 1)));
      if (name.empty()) throw config_error("a section with no name");
      if (iequals(name, "global")) name = "global";
      out_.sections.push_back({name, path, line_no, {}});
      return {};
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) throw config_error(fmt::format("'{}' is not key = value", line));
    std::string key(trim(line.substr(0, eq)));
    if (key.empty()) throw config_error("a value with no key");
    std::string value = fpm_ini_value(line.substr(eq + 1), env_);
    if (key == "include") {
      if (value.empty()) throw config_error("include: no pattern");
      return value;
    }
    if (out_.sections.empty()) out_.sections.push_back({"global", path, line_no, {}});
    fpm_section& s = out_.sections.back();
    if (value.find("$pool") != std::string::npos) {
      if (s.name == "global") throw config_error(fmt::format("{}: '$pool' outside a pool", key));
      for (auto at = value.find("$pool"); at != std::string::npos; at = value.find("$pool", at + s.name.size()))
        value.replace(at, 5, s.name);
    }
    s.entries.push_back({std::move(key), std::move(value), path, line_no});
    return {};
  }

  void follow_include(std::string pattern, const std::string& path, int line_no, int depth) {
    if (pattern.front() != '/') pattern = prefix_ + "/" + pattern;
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), GLOB_ERR | GLOB_MARK, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
      out_.warnings.push_back(fmt::format("{}:{}: include: nothing matches '{}'", path, line_no, pattern));
      ::globfree(&g);
      return;
    }
    if (rc != 0) {
      ::globfree(&g);
      throw config_error(fmt::format("{}:{}: include: cannot read '{}'", path, line_no, pattern));
    }
    std::vector<std::string> files(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    ::globfree(&g);
    for (const auto& f : files)
      if (!f.empty() && f.back() != '/') read(f, depth + 1);  // GLOB_MARK: directories end in '/'
  }

  std::string prefix_;
  env_lookup env_;
  fpm_file out_;
};

}  // namespace

std::string fpm_entry::where() const { return fmt::format("{}:{}", file, line); }

std::string fpm_ini_value(std::string_view raw, const env_lookup& env_in) {
  const env_lookup env = env_in ? env_in : env_lookup(getenv_lookup);
  const std::string_view s = trim(raw);
  std::string out;
  bool quoted = false;
  std::size_t unquoted_end = 0;  // trailing blanks of unquoted text are not the value's
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ';') break;
    if (c == '"') {
      quoted = true;
      ++i;
      for (;; ++i) {
        if (i >= s.size()) throw config_error("a '\"' without its closing '\"'");
        if (s[i] == '"') break;
        if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$')) {
          out += s[++i];
        } else if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
          i = expand_variable(s, i, out, env) - 1;
        } else {
          out += s[i];
        }
      }
      ++i;
      unquoted_end = out.size();
      continue;
    }
    if (c == '\'') {
      quoted = true;
      const auto close = s.find('\'', i + 1);
      if (close == std::string_view::npos) throw config_error("a \"'\" without its closing \"'\"");
      out.append(s.substr(i + 1, close - i - 1));
      i = close + 1;
      unquoted_end = out.size();
      continue;
    }
    if (c == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      i = expand_variable(s, i, out, env);
      unquoted_end = out.size();
      continue;
    }
    out += c;
    if (c != ' ' && c != '\t') unquoted_end = out.size();
    ++i;
  }
  out.resize(unquoted_end);
  if (!quoted) {
    for (std::string_view t : {"yes", "on", "true"})
      if (iequals(out, t)) return "1";
    for (std::string_view f : {"no", "off", "false", "none", "null"})
      if (iequals(out, f)) return "";
  }
  return out;
}

std::optional<bool> fpm_bool(std::string_view v) {
  for (std::string_view t : {"1", "yes", "true", "on"})
    if (iequals(v, t)) return true;
  for (std::string_view f : {"", "0", "no", "none", "false", "off"})
    if (iequals(v, f)) return false;
  return std::nullopt;
}

fpm_file read_fpm_ini(const std::string& path, const std::string& prefix, const env_lookup& env) {
  reader r(prefix.empty() ? "/usr" : prefix, env ? env : env_lookup(getenv_lookup));
  r.read(path, 0);
  return r.take();
}

}  // namespace fcgimux::config_detail
