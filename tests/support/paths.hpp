// SPDX-License-Identifier: ISC
#pragma once
// Paths of the programs the tests run, fixed at build time.

namespace fcgimux::test {

/// The fcgimux daemon built by this tree.
inline constexpr const char* fcgimux_bin = FCGIMUX_BIN;
/// The demo worker built by this tree.
inline constexpr const char* demo_bin = FCGIMUX_DEMO_BIN;
/// Debian's php-cgi.
inline constexpr const char* php_cgi_bin = PHP_CGI_BIN;
/// Debian's fcgiwrap.
inline constexpr const char* fcgiwrap_bin = FCGIWRAP_BIN;
/// Debian's nginx (nginx-light).
inline constexpr const char* nginx_bin = NGINX_BIN;

}  // namespace fcgimux::test
