// SPDX-License-Identifier: ISC
#pragma once
// A pool's access log (--access-log, --access-format): one line per request, formatted on the
// event loop when the request ends and handed to the log writer thread (base/log_file.hpp), which
// writes it without the loop ever waiting. What a line needs of the request's PARAMS is read then,
// in one pass over the block the request keeps anyway: with the log off, nothing is done at all.

#include "src/base/log_file.hpp"
#include "src/config/access_format.hpp"
#include "src/config/config.hpp"
#include "src/core/request.hpp"

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux {

/// Appends `v` with its control characters, quotes and backslashes as \xHH (as nginx writes what a
/// client sent); an empty `v` as "-" when `dash_if_empty`. Also used for workers' stderr lines.
void append_escaped(std::string& out, std::string_view v, bool dash_if_empty = true);

class access_log {
 public:
  access_log(std::shared_ptr<log::output> out, std::vector<access_token> format);

  /// The line for `r`, which has just ended (its status, duration, worker), of pool `pool`.
  /// False: the writer was too far behind and the line was dropped.
  bool write(const request& r, std::string_view pool);
  /// The line alone, without writing it (`now`: the end of the request).
  void format(std::string& line, const request& r, std::string_view pool, clock_type::time_point now);

  /// Where it writes (its path) and how.
  const std::string& path() const noexcept { return out_->path(); }

 private:
  // The FastCGI parameters the format reads; a bit each in `wanted_`.
  enum field : unsigned {
    method,
    request_uri,
    script_name,
    query,
    remote_addr,
    remote_user,
    content_length,
    script_filename,
    fixed_fields
  };
  struct time_cache {
    std::time_t second = -1;
    std::string text;
  };

  std::shared_ptr<log::output> out_;
  std::vector<access_token> format_;
  unsigned wanted_ = 0;
  std::vector<time_cache> times_;  // one per token, used by the time tokens
  std::string line_;               // reused: no allocation per request once warm
};

/// The access log `p` asks for, or null when it is off. Throws std::system_error when the file
/// cannot be opened; the format was checked with the configuration.
std::unique_ptr<access_log> open_access_log(const pool_config& p);

}  // namespace fcgimux
