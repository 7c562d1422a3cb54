#!/bin/sh
# SPDX-License-Identifier: ISC
# The .deb's postinst and postrm: tell a running systemd that fcgimux's units came or went.
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || true
fi
exit 0
