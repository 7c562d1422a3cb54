#!/bin/bash
# SPDX-License-Identifier: ISC
# Exits 0 when fcgimux's stats server answers GET /healthz with 200.
# bash's /dev/tcp does the HTTP request, so the image needs no curl.
# FCGIMUX_HEALTH_ADDR=HOST:PORT names the stats listener (default 127.0.0.1:9001).
addr=${FCGIMUX_HEALTH_ADDR:-127.0.0.1:9001}
host=${addr%:*}
port=${addr##*:}
exec 3<>"/dev/tcp/${host}/${port}" || exit 1
printf 'GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3 || exit 1
read -r -t "${FCGIMUX_HEALTH_TIMEOUT:-2}" _ status _ <&3 || exit 1
[[ $status == 200 ]]
