<?php
// SPDX-License-Identifier: ISC
// Sample page of the fcgimux php image: which php-cgi worker answered, and the query parameter
// "name" it was asked with (plain text, so echoing it is harmless; bounded all the same).
header('Content-Type: text/plain; charset=utf-8');
$name = $_GET['name'] ?? 'world';
if (!is_string($name)) $name = 'world';  // ?name[]=x is an array
printf("hello from php %s, pid %d\n", PHP_VERSION, getmypid());
printf("name %s\n", substr($name, 0, 200));
printf("sapi %s, request %s %s\n", PHP_SAPI, $_SERVER['REQUEST_METHOD'] ?? '-', $_SERVER['REQUEST_URI'] ?? '-');
