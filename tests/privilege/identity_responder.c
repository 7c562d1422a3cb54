// SPDX-License-Identifier: ISC
/* A FastCGI responder in plain C, linked statically so that it runs alone inside a chroot jail
 * (no loader, no libraries there). It accepts on fd 0, as spawn-fcgi hands the socket over, and
 * answers every request with who it is and what it can do:
 *
 *   uid=65534 euid=65534 gid=65534 egid=65534 groups=65534
 *   setuid0=-1 EPERM
 *   setresuid0=-1 EPERM
 *   cwd=/
 *   marker=yes        (the file /jail-marker exists: the jail is its root)
 *
 * Only what the privilege tests need of FastCGI: BEGIN_REQUEST, PARAMS and STDIN are read and
 * skipped; the answer is one STDOUT record, the empty one and END_REQUEST; FCGI_KEEP_CONN is
 * honoured. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int read_full(int fd, unsigned char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static int write_full(int fd, const unsigned char* buf, size_t n) {
  while (n > 0) {
    ssize_t r = write(fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    buf += r;
    n -= (size_t)r;
  }
  return 0;
}

static void header(unsigned char* h, int type, int id, size_t len) {
  h[0] = 1;
  h[1] = (unsigned char)type;
  h[2] = (unsigned char)(id >> 8);
  h[3] = (unsigned char)id;
  h[4] = (unsigned char)(len >> 8);
  h[5] = (unsigned char)len;
  h[6] = 0;
  h[7] = 0;
}

static const char* errno_name(int e) {
  switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    default: return "other";
  }
}

static size_t describe_self(char* out, size_t cap) {
  size_t n = 0;
  gid_t groups[256];
  int ng = getgroups(256, groups);
  n += (size_t)snprintf(out + n, cap - n,
                        "Content-Type: text/plain\r\n\r\nuid=%u euid=%u gid=%u egid=%u groups=", (unsigned)getuid(),
                        (unsigned)geteuid(), (unsigned)getgid(), (unsigned)getegid());
  for (int i = 0; i < ng && n < cap; ++i)
    n += (size_t)snprintf(out + n, cap - n, i ? ",%u" : "%u", (unsigned)groups[i]);
  /* Both must fail for a worker that is not root: it cannot take root back. */
  errno = 0;
  int r = setuid(0);
  n += (size_t)snprintf(out + n, cap - n, "\nsetuid0=%d %s", r, errno_name(r == 0 ? 0 : errno));
  errno = 0;
  r = setresuid(0, 0, 0);
  n += (size_t)snprintf(out + n, cap - n, "\nsetresuid0=%d %s", r, errno_name(r == 0 ? 0 : errno));
  char cwd[512];
  n += (size_t)snprintf(out + n, cap - n, "\ncwd=%s", getcwd(cwd, sizeof cwd) ? cwd : "?");
  n += (size_t)snprintf(out + n, cap - n, "\nmarker=%s\n", access("/jail-marker", F_OK) == 0 ? "yes" : "no");
  return n < cap ? n : cap;
}

static void serve(int fd) {
  unsigned char h[8], content[65536 + 256];
  int id = 0, keep = 0, params_done = 0;
  for (;;) {
    if (read_full(fd, h, 8) != 0) return;
    size_t len = ((size_t)h[4] << 8) | h[5], pad = h[6];
    if (read_full(fd, content, len + pad) != 0) return;
    int type = h[1];
    if (type == 1) { /* BEGIN_REQUEST */
      id = (h[2] << 8) | h[3];
      keep = len >= 3 && (content[2] & 1);
      params_done = 0;
    } else if (type == 4 && len == 0) { /* the empty PARAMS */
      params_done = 1;
    } else if (type == 5 && len == 0 && params_done) { /* the empty STDIN: answer */
      char body[4096];
      size_t n = describe_self(body, sizeof body);
      unsigned char rec[8 + sizeof body], end[16];
      header(rec, 6, id, n);
      memcpy(rec + 8, body, n);
      header(end, 6, id, 0);
      if (write_full(fd, rec, 8 + n) != 0 || write_full(fd, end, 8) != 0) return;
      header(end, 3, id, 8);
      memset(end + 8, 0, 8);
      if (write_full(fd, end, 16) != 0) return;
      if (!keep) return;
    }
  }
}

int main(void) {
  for (;;) {
    int c = accept(0, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return 1;
    }
    serve(c);
    close(c);
  }
}
