// SPDX-License-Identifier: ISC
// A libfcgi FILTER for the roles tests: it answers its role, the length of its STDIN, and its
// DATA upper-cased (FCGX_StartFilterData moves from the end of STDIN to the DATA stream), so a
// test sees that fcgimux sent FILTER, then STDIN, then every DATA byte in order.
#include <fcgiapp.h>

#include <cctype>
#include <cstddef>
#include <cstdio>

int main() {
  FCGX_Stream *in = nullptr, *out = nullptr, *err = nullptr;
  FCGX_ParamArray env = nullptr;
  while (FCGX_Accept(&in, &out, &err, &env) >= 0) {
    const char* role = FCGX_GetParam("FCGI_ROLE", env);
    unsigned long stdin_length = 0;
    while (FCGX_GetChar(in) != EOF) ++stdin_length;
    if (FCGX_StartFilterData(in) != 0) {
      FCGX_FPrintF(out, "Status: 500\r\nContent-Type: text/plain\r\n\r\nno DATA stream (role %s)\n",
                   role ? role : "none");
      continue;
    }
    FCGX_FPrintF(out, "Status: 200\r\nContent-Type: text/plain\r\nX-Role: %s\r\nX-Stdin-Length: %lu\r\n\r\n",
                 role ? role : "none", stdin_length);
    for (int c; (c = FCGX_GetChar(in)) != EOF;) FCGX_PutChar(std::toupper(c), out);
  }
  return 0;
}
