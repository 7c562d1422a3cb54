// SPDX-License-Identifier: ISC
// A libfcgi AUTHORIZER for the roles tests: it allows user "alice" with password "secret" and
// denies everyone else. The credentials come as Apache's mod_authnz_fcgi sends them (REMOTE_USER
// and REMOTE_PASSWD) or, from lighttpd, which authenticates nobody before its authorizer, in the
// request's own Authorization header (HTTP_AUTHORIZATION, Basic). An allowed request carries
// Variable-AUTH_USER and Variable-AUTH_ROLE back to the web server; AUTH_ROLE is the FCGI_ROLE
// libfcgi read from the BEGIN_REQUEST, so a test sees that fcgimux passed the AUTHORIZER role on.
// Asked as a RESPONDER (the request the web server serves once the authorizer allowed it), it
// answers with the variables it was given, so a test sees where the web server put them.
#include <fcgiapp.h>

#include <cstring>
#include <string>

namespace {

// Basic credentials ("Basic dXNlcjpwYXNz") decoded into "user:pass"; "" if there are none.
std::string basic_credentials(const char* header) {
  const char prefix[] = "Basic ";
  if (!header || std::strncmp(header, prefix, sizeof prefix - 1) != 0) return "";
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (const char* p = header + sizeof prefix - 1; *p && *p != '='; ++p) {
    const auto at = alphabet.find(*p);
    if (at == std::string::npos) return "";
    bits = (bits << 6) | static_cast<unsigned>(at);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

bool equal(const char* a, const char* b) { return a && std::strcmp(a, b) == 0; }

std::string param_or_dash(const char* name, FCGX_ParamArray env) {
  const char* v = FCGX_GetParam(name, env);
  return v ? v : "-";
}

}  // namespace

int main() {
  FCGX_Stream *in = nullptr, *out = nullptr, *err = nullptr;
  FCGX_ParamArray env = nullptr;
  while (FCGX_Accept(&in, &out, &err, &env) >= 0) {
    const char* role = FCGX_GetParam("FCGI_ROLE", env);
    if (equal(role, "RESPONDER")) {
      const std::string body = "FCGI_ROLE=RESPONDER\nAUTH_USER=" + param_or_dash("AUTH_USER", env) +
                               "\nAUTH_ROLE=" + param_or_dash("AUTH_ROLE", env) + "\n";
      FCGX_FPrintF(out, "Status: 200\r\nContent-Type: text/plain\r\n\r\n%s", body.c_str());
      continue;
    }
    std::string user = param_or_dash("REMOTE_USER", env), pass = param_or_dash("REMOTE_PASSWD", env);
    if (!FCGX_GetParam("REMOTE_USER", env)) {
      const std::string both = basic_credentials(FCGX_GetParam("HTTP_AUTHORIZATION", env));
      const auto colon = both.find(':');
      if (colon != std::string::npos) {
        user = both.substr(0, colon);
        pass = both.substr(colon + 1);
      }
    }
    const bool ok = equal(role, "AUTHORIZER") && user == "alice" && pass == "secret";
    if (ok)
      FCGX_FPrintF(out, "Status: 200\r\nVariable-AUTH_USER: %s\r\nVariable-AUTH_ROLE: %s\r\n\r\n", user.c_str(), role);
    else
      FCGX_FPrintF(out,
                   "Status: 401\r\nWWW-Authenticate: Basic realm=\"roles\"\r\nContent-Type: text/plain\r\n\r\n"
                   "denied (role %s)\n",
                   role ? role : "none");
  }
  return 0;
}
