#!/bin/sh
# Test backend for fcgiwrap: ?bytes=N answers the shared test pattern, anything else echoes the body.
# The body is read whole before answering: fcgiwrap writes all of it before it reads our output.
printf 'Content-Type: application/octet-stream\r\n\r\n'
case "$QUERY_STRING" in
  bytes=*)
    yes abcdefghijklmnopqrstuvwxyz | tr -d '\n' | head -c "${QUERY_STRING#bytes=}"
    ;;
  *)
    body=$(mktemp)
    head -c "${CONTENT_LENGTH:-0}" > "$body"
    cat "$body"
    rm -f "$body"
    ;;
esac
