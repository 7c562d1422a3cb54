// SPDX-License-Identifier: ISC
// A libfcgi AUTHORIZER for the roles tests: it allows user "alice" with password "secret"
// (REMOTE_USER and REMOTE_PASSWD, as Apache's mod_authnz_fcgi sends them) and denies everyone
// else. An allowed request carries Variable-AUTH_USER and Variable-AUTH_ROLE back to the web
// server; AUTH_ROLE is the FCGI_ROLE libfcgi read from the BEGIN_REQUEST, so a test sees that
// fcgimux passed the AUTHORIZER role on.
#include <fcgiapp.h>

#include <cstring>

int main() {
  FCGX_Stream *in = nullptr, *out = nullptr, *err = nullptr;
  FCGX_ParamArray env = nullptr;
  while (FCGX_Accept(&in, &out, &err, &env) >= 0) {
    const char* role = FCGX_GetParam("FCGI_ROLE", env);
    const char* user = FCGX_GetParam("REMOTE_USER", env);
    const char* pass = FCGX_GetParam("REMOTE_PASSWD", env);
    const bool ok = role && std::strcmp(role, "AUTHORIZER") == 0 && user && std::strcmp(user, "alice") == 0 && pass &&
                    std::strcmp(pass, "secret") == 0;
    if (ok)
      FCGX_FPrintF(out, "Status: 200\r\nVariable-AUTH_USER: %s\r\nVariable-AUTH_ROLE: %s\r\n\r\n", user, role);
    else
      FCGX_FPrintF(out, "Status: 401\r\nContent-Type: text/plain\r\n\r\ndenied (role %s)\n", role ? role : "none");
  }
  return 0;
}
