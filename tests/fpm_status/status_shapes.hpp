// SPDX-License-Identifier: ISC
#pragma once
// php-fpm's status page read back in each of its shapes: the fields' names, in order, each with
// its type (number or string), and their values, so two answers compare by structure, not bytes.

#include <string>
#include <utility>
#include <vector>

namespace fcgimux::test {

/// One field: its name as the shape spells it, whether its value is a number, and the value.
struct shape_field {
  std::string name;
  bool number = false;
  std::string value;
  bool operator==(const shape_field& o) const { return name == o.name && number == o.number; }
};

/// The pool's fields and each process's (with ?full).
struct status_shape {
  std::vector<shape_field> pool;
  std::vector<std::vector<shape_field>> processes;
  /// The value of the pool's field `name`; empty if absent.
  std::string value(const std::string& name) const;
};

/// Parses a page body for QUERY_STRING word `format` ("", "json", "xml", "html", "openmetrics").
status_shape parse_status(const std::string& format, const std::string& body);

}  // namespace fcgimux::test
