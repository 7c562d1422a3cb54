<?php
// SPDX-License-Identifier: ISC
// Sample page for the fcgimux php image: shows which php-cgi worker answered.
header('Content-Type: text/plain');
printf("hello from php %s, pid %d\n", PHP_VERSION, getmypid());
printf("sapi %s, request %s %s\n", PHP_SAPI, $_SERVER['REQUEST_METHOD'] ?? '-', $_SERVER['REQUEST_URI'] ?? '-');
