// SPDX-License-Identifier: ISC
#pragma once
// --access-format: php-fpm's access.format, parsed once when the configuration is read (a bad
// format is a configuration error, not a broken line per request). docs/logging.md lists the tokens.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux {

struct access_token {
  enum class kind : std::uint8_t {
    text,             ///< `arg` as it is
    accept_time,      ///< %t, %{strftime}t: when the request came in
    end_time,         ///< %T, %{strftime}T: when it ended
    method,           ///< %m REQUEST_METHOD
    uri,              ///< %r REQUEST_URI up to its '?', else SCRIPT_NAME
    query,            ///< %q QUERY_STRING
    query_mark,       ///< %Q '?' when there is a query string
    status,           ///< %s
    duration,         ///< %d, %{seconds|milli|micro}d
    worker_pid,       ///< %p the worker that served it
    fcgimux_pid,      ///< %P
    pool,             ///< %n
    remote_addr,      ///< %R REMOTE_ADDR
    remote_user,      ///< %u REMOTE_USER
    content_length,   ///< %l CONTENT_LENGTH
    script_filename,  ///< %f SCRIPT_FILENAME
    param,            ///< %{NAME}e: any FastCGI parameter
  };
  enum class unit : std::uint8_t { seconds, milli, micro };

  kind k = kind::text;
  unit u = unit::seconds;
  std::string arg;  ///< the text, a strftime format (empty: php-fpm's), or a parameter's name
};

/// What --access-format is when not given: php-fpm's default ("%R - %u %t \"%m %r\" %s") with the
/// query, the time in brackets (php-fpm writes none), the duration, the pool and the worker.
inline constexpr std::string_view default_access_format = R"(%R - %u [%t] "%m %r%Q%q" %s %d %n %p)";

/// Parses a format; throws config_error naming the offending token.
std::vector<access_token> parse_access_format(std::string_view format);

}  // namespace fcgimux
