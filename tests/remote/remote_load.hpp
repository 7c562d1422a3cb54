// SPDX-License-Identifier: ISC
#pragma once
// What the remote-server tests send: requests over FastCGI to fcgimux's front, each answer checked
// to be the one to this very request (method, body length and CRC), and which server gave it.

#include "tests/support/net.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace fcgimux::test {

/// A body of `n` bytes that differs per request, so that a body sent to the wrong request shows.
std::string body_for(int request, std::size_t n);

/// One request's result: the server that answered it, or why it failed.
struct outcome {
  bool ok = false;
  std::string server;
  std::string why;
};

/// One request to `front` running `script`, its answer checked against the request.
outcome ask(const endpoint& front, const std::string& script, const std::string& method, const std::string& uri,
            const std::string& body);

/// The first few lines of `v`, for a failure message.
std::string joined(const std::vector<std::string>& v);

}  // namespace fcgimux::test
