// SPDX-License-Identifier: ISC
#pragma once
// An HTTP Basic Authorization header for the web servers in front of the roles tests' authorizer.

#include <string>

namespace fcgimux::test {

/// "Authorization: Basic BASE64(user_pass)\r\n".
inline std::string basic(const std::string& user_pass) {
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned val = 0;
  int bits = -6;
  for (unsigned char ch : user_pass) {
    val = (val << 8) + ch;
    bits += 8;
    while (bits >= 0) {
      out += b64[(val >> bits) & 0x3f];
      bits -= 6;
    }
  }
  if (bits > -6) out += b64[((val << 8) >> (bits + 8)) & 0x3f];
  while (out.size() % 4) out += '=';
  return "Authorization: Basic " + out + "\r\n";
}

}  // namespace fcgimux::test
