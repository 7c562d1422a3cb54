// SPDX-License-Identifier: ISC
#pragma once
// The worker programs the integration tests run, all answering the same two requests:
// "/echo" (body = the request's STDIN) and "/data?bytes=N" (N bytes of pattern_bytes()).

#include "tests/support/fcgi_client.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/temp_dir.hpp"

#include <string>
#include <vector>

namespace fcgimux::test {

/// A FastCGI program and what a request to it needs.
struct backend {
  std::string name;
  std::vector<std::string> command;  ///< program and arguments
  std::vector<std::string> env;      ///< extra environment
  std::string script_filename;       ///< SCRIPT_FILENAME to send; empty for the demo
};

/// fcgimux-demo.
backend demo_backend();
/// php-cgi running scripts/echo.php, copied into `dir`.
backend php_backend(const temp_dir& dir);
/// fcgiwrap running scripts/echo.cgi, copied into `dir` and made executable.
backend fcgiwrap_backend(const temp_dir& dir);
/// The backend called `name` ("demo", "php-cgi", "fcgiwrap").
backend backend_named(const std::string& name, const temp_dir& dir);

/// CGI params for `method uri` plus the backend's SCRIPT_FILENAME.
fcgi_params backend_params(const backend& b, const std::string& method, const std::string& uri,
                           std::size_t content_length = 0);

/// A responder request with id 1 for `b`.
request_spec backend_request(const backend& b, const std::string& method, const std::string& uri,
                             const std::string& body = {}, std::uint8_t flags = 0);

/// fcgimux running `b` with `args` (stats off unless args say otherwise).
fcgimux_options behind_fcgimux(const backend& b, std::vector<std::string> args);

}  // namespace fcgimux::test

/// Fails the test case unless the read_status expression is ok; shows fcgimux's stderr.
#define REQUIRE_READ_OK(expr, mux)                                                                                  \
  do {                                                                                                              \
    auto status_ = (expr);                                                                                          \
    if (status_ != ::fcgimux::test::read_status::ok) {                                                              \
      FAIL(#expr << " -> " << ::fcgimux::test::to_string(status_) << "\nfcgimux stderr:\n" << (mux).stderr_text()); \
    }                                                                                                               \
  } while (0)
