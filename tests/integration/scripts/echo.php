<?php
// SPDX-License-Identifier: ISC
// Test backend for php-cgi: ?bytes=N answers the shared test pattern, anything else echoes the body.
header('Content-Type: application/octet-stream');
if (isset($_GET['bytes'])) {
    $n = (int)$_GET['bytes'];
    echo substr(str_repeat('abcdefghijklmnopqrstuvwxyz', intdiv($n, 26) + 1), 0, $n);
} else {
    echo file_get_contents('php://input');
}
