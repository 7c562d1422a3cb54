# SPDX-License-Identifier: ISC
# cpack -G DEB (the default generator): a .deb of what cmake/install.cmake installs, under /usr,
# its dependencies found by dpkg-shlibdeps (dpkg-dev and file must be installed).
set(CPACK_PACKAGE_NAME fcgimux)
set(CPACK_PACKAGE_VENDOR fcgimux)
set(CPACK_PACKAGE_CONTACT "fcgimux developers <dev@fcgimux.local>" CACHE STRING "The package's maintainer")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "FastCGI proxy and process manager")
# Lines of at most 79 columns: dpkg shows them as they are.
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "fcgimux sits between a web server (nginx, HAProxy, Apache) and a pool of\n"
  "FastCGI workers (php-cgi, fcgiwrap, libfcgi and kcgi programs) that it starts\n"
  "and supervises itself. It queues each request and hands it to a free worker,\n"
  "so many front connections share few workers; it grows and shrinks the pool,\n"
  "answers overload with a fast 503, replaces crashed workers, reloads without a\n"
  "failed request and reports its figures as JSON and Prometheus metrics.\n"
  "\n"
  "It also answers to the command lines of kfcgi(8) and spawn-fcgi(1).")
set(CPACK_VERBATIM_VARIABLES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "php-cgi, fcgiwrap, nginx | httpd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# systemd learns of the new units; none is enabled: /etc/fcgimux/fcgimux.json comes first.
configure_file("${CMAKE_CURRENT_LIST_DIR}/deb-daemon-reload.sh" "${PROJECT_BINARY_DIR}/packaging/deb/postinst" COPYONLY)
configure_file("${CMAKE_CURRENT_LIST_DIR}/deb-daemon-reload.sh" "${PROJECT_BINARY_DIR}/packaging/deb/postrm" COPYONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_BINARY_DIR}/packaging/deb/postinst" "${PROJECT_BINARY_DIR}/packaging/deb/postrm")
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/fuzz/corpus-run/" "/bench/results/")
include(CPack)
