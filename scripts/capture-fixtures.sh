#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Recaptures tests/fixtures/*.bin from the real programs, so that the codec is tested on what they
# actually put on the wire:
#   nginx-get.bin, nginx-post.bin   what nginx (fastcgi_pass) sends for a GET and a POST
#   php-cgi-response.bin            what php-cgi answers to a GET (4 KiB body)
#   php-cgi-get-values.bin          what php-cgi answers to FCGI_GET_VALUES
#   fcgiwrap-response.bin           what a libfcgi program (fcgiwrap + a CGI script) answers
# and refreshes the fuzzers' seeds from them. Usage: scripts/capture-fixtures.sh [OUTDIR]
# Needs: scripts/deps.sh test. Uses only 127.0.0.1; every process it starts is stopped on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/tests/fixtures}
mkdir -p "$out"
tmp=$(mktemp -d /tmp/fcgimux-capture.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

for cmd in nginx php-cgi fcgiwrap spawn-fcgi curl python3; do
  command -v "$cmd" >/dev/null || { echo "capture-fixtures: $cmd missing (scripts/deps.sh test)" >&2; exit 1; }
done

# The FastCGI bits in Python: a capture server standing in for an application behind nginx, and a
# client standing in for a web server in front of php-cgi and fcgiwrap.
cat >"$tmp/fcgi.py" <<'PY'
import socket, struct, sys, time

def record(t, rid, content=b""):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", 1, t, rid, len(content), pad) + content + b"\0" * pad

def nv(name, value):
    def ln(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return ln(len(name)) + ln(len(value)) + name + value

def records(buf):
    """Yields (type, id, content) of every whole record at the start of buf."""
    while len(buf) >= 8:
        _, t, rid, clen, plen = struct.unpack(">BBHHBx", buf[:8])
        if len(buf) < 8 + clen + plen:
            return
        yield t, rid, buf[8:8 + clen]
        buf = buf[8 + clen + plen:]

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def serve(port_file, *files):
    """Accepts one connection per file, stores what arrives until the empty STDIN, answers."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    ls.settimeout(30)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(ls.getsockname()[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    for path in files:
        c, _ = ls.accept()
        c.settimeout(10)
        buf = b""
        while not any(t == 5 and not content for t, _, content in records(buf)):
            chunk = c.recv(65536)
            if not chunk:
                break
            buf += chunk
        with open(path, "wb") as f:
            f.write(buf)
        body = b"Content-Type: text/plain\r\n\r\ncaptured\n"
        c.sendall(record(6, 1, body) + record(6, 1) + record(3, 1, struct.pack(">IB3x", 0, 0)))
        c.close()

def ask(port, path, payload):
    """Sends payload to a FastCGI server and stores everything it answers until it closes."""
    deadline = time.time() + 10
    while True:
        try:
            c = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
            break
        except ConnectionRefusedError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    c.sendall(payload)
    buf = b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        buf += chunk
        if any(t in (3, 10) for t, _, _ in records(buf)):
            break  # END_REQUEST or GET_VALUES_RESULT: the answer is complete
    c.close()
    with open(path, "wb") as f:
        f.write(buf)

def request(script, method="GET", query=""):
    params = [(b"GATEWAY_INTERFACE", b"CGI/1.1"), (b"SERVER_SOFTWARE", b"fcgimux-capture"),
              (b"REQUEST_METHOD", method.encode()), (b"QUERY_STRING", query.encode()),
              (b"SCRIPT_FILENAME", script.encode()), (b"SCRIPT_NAME", b"/" + script.rsplit("/", 1)[1].encode()),
              (b"REQUEST_URI", b"/" + script.rsplit("/", 1)[1].encode()), (b"DOCUMENT_ROOT", script.rsplit("/", 1)[0].encode()),
              (b"SERVER_PROTOCOL", b"HTTP/1.1"), (b"SERVER_NAME", b"localhost"), (b"SERVER_PORT", b"80"),
              (b"REMOTE_ADDR", b"127.0.0.1"), (b"REDIRECT_STATUS", b"200"), (b"HTTP_HOST", b"localhost")]
    block = b"".join(nv(n, v) for n, v in params)
    return (record(1, 1, struct.pack(">HB5x", 1, 0)) + record(4, 1, block) + record(4, 1) + record(5, 1))

def get_values():
    block = nv(b"FCGI_MAX_CONNS", b"") + nv(b"FCGI_MAX_REQS", b"") + nv(b"FCGI_MPXS_CONNS", b"")
    return record(9, 0, block)

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "port":
        print(free_port())
    elif cmd == "wait-port":
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit("capture-fixtures: nothing listens on port " + sys.argv[2])
                time.sleep(0.1)
    elif cmd == "serve":
        serve(*sys.argv[2:])
    elif cmd == "ask-request":
        port, path, script = sys.argv[2:5]
        ask(port, path, request(script, query=sys.argv[5] if len(sys.argv) > 5 else ""))
    elif cmd == "ask-get-values":
        ask(sys.argv[2], sys.argv[3], get_values())
    elif cmd == "content":
        # The concatenated content of the records of one type, e.g. the PARAMS block.
        with open(sys.argv[2], "rb") as f:
            sys.stdout.buffer.write(b"".join(c for t, _, c in records(f.read()) if t == int(sys.argv[3])))
    elif cmd == "post-body":
        # 40000 bytes: more than nginx's 32 KiB STDIN records, so the body spans two of them.
        sys.stdout.buffer.write(b"".join(b"field%05d=value&" % i for i in range(2500)))
PY
py() { python3 "$tmp/fcgi.py" "$@"; }

wait_file() {
  for _ in $(seq 100); do [[ -s "$1" ]] && return 0; sleep 0.1; done
  echo "capture-fixtures: timed out waiting for $1" >&2
  return 1
}

# --- (a) nginx -> capture server -----------------------------------------------------------------
py serve "$tmp/capture.port" "$tmp/nginx-get.bin" "$tmp/nginx-post.bin" &
pids+=($!)
wait_file "$tmp/capture.port"
capture_port=$(cat "$tmp/capture.port")
nginx_port=$(py port)
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $tmp/nginx/logs/error.log;
pid $tmp/nginx/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  proxy_temp_path $tmp/nginx/proxy;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root /srv/www;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_pass 127.0.0.1:$capture_port;
    }
  }
}
EOF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" &
pids+=($!)
py wait-port "$nginx_port"
# A browser's usual headers, so that nginx sends a realistic PARAMS block (30 pairs).
curl -sS --max-time 10 -o "$tmp/get.out" "http://127.0.0.1:$nginx_port/index.php?page=1&lang=en" \
  -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0 fcgimux-capture' \
  -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8' \
  -H 'Accept-Language: en-US,en;q=0.5' -H 'Accept-Encoding: gzip, deflate, br' \
  -H 'Referer: http://localhost/index.php' -H 'Cookie: PHPSESSID=0123456789abcdef0123456789; theme=dark' \
  -H 'Upgrade-Insecure-Requests: 1' -H 'Sec-Fetch-Mode: navigate' -H 'Cache-Control: no-cache'
py post-body >"$tmp/post-body"
curl -sS --max-time 10 -o "$tmp/post.out" "http://127.0.0.1:$nginx_port/form.php" \
  -H 'Content-Type: application/x-www-form-urlencoded' -H 'User-Agent: fcgimux-capture' \
  --data-binary @"$tmp/post-body"
grep -q captured "$tmp/get.out" && grep -q captured "$tmp/post.out" ||
  { echo "capture-fixtures: nginx did not relay the answer" >&2; cat "$tmp/nginx/logs/error.log" >&2; exit 1; }
wait "${pids[0]}"

# --- (b) php-cgi answers -------------------------------------------------------------------------
mkdir -p "$tmp/www"
cat >"$tmp/www/page.php" <<'PHP'
<?php
header('X-Fixture: php-cgi');
echo str_repeat("0123456789abcdef", intdiv((int)($_GET['size'] ?? 4096), 16));
PHP
php_port=$(py port)
PHP_FCGI_CHILDREN=0 PHP_FCGI_MAX_REQUESTS=100 php-cgi -d cgi.force_redirect=0 -b "127.0.0.1:$php_port" &
pids+=($!)
py ask-request "$php_port" "$tmp/php-cgi-response.bin" "$tmp/www/page.php" "size=4096"
py ask-get-values "$php_port" "$tmp/php-cgi-get-values.bin"

# --- (c) a libfcgi program: fcgiwrap running a CGI script --------------------------------------
cat >"$tmp/www/hello.cgi" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\nX-Fixture: fcgiwrap\r\n\r\n'
echo "hello from fcgiwrap, method $REQUEST_METHOD"
CGI
chmod +x "$tmp/www/hello.cgi"
wrap_port=$(py port)
spawn-fcgi -n -a 127.0.0.1 -p "$wrap_port" -- /usr/sbin/fcgiwrap -c 1 &
pids+=($!)
py ask-request "$wrap_port" "$tmp/fcgiwrap-response.bin" "$tmp/www/hello.cgi"

for f in nginx-get nginx-post php-cgi-response php-cgi-get-values fcgiwrap-response; do
  [[ -s "$tmp/$f.bin" ]] || { echo "capture-fixtures: $f.bin is empty" >&2; exit 1; }
  cp "$tmp/$f.bin" "$out/$f.bin"
  echo "captured $out/$f.bin ($(stat -c %s "$out/$f.bin") bytes)"
done

# The small fixtures also seed the fuzzers (fuzz/corpus/<target>/).
if [[ "$out" == "$root/tests/fixtures" ]]; then
  for t in fuzz_decoder fuzz_split_decoder fuzz_roundtrip; do
    mkdir -p "$root/fuzz/corpus/$t"
    for f in nginx-get php-cgi-response php-cgi-get-values fcgiwrap-response; do cp "$out/$f.bin" "$root/fuzz/corpus/$t/$f"; done
  done
  mkdir -p "$root/fuzz/corpus/fuzz_name_value"
  py content "$out/nginx-get.bin" 4 >"$root/fuzz/corpus/fuzz_name_value/nginx-get-params"
  py content "$out/php-cgi-get-values.bin" 10 >"$root/fuzz/corpus/fuzz_name_value/php-cgi-get-values"
  echo "refreshed the fuzz seeds in $root/fuzz/corpus"
fi
