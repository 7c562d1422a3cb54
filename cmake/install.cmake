# SPDX-License-Identifier: ISC
# cmake --install: the daemon, its kfcgi and spawn-fcgi links, the demo worker, fcgimux-php-trace
# (the slow log's PHP frames, tools/php-trace), the manual, the
# systemd units and example configurations. Every destination is relative to the prefix, which
# `cmake --install --prefix` and cpack choose at install time, not at configure time.
include(GNUInstallDirs)

set(FCGIMUX_INSTALL_PKGLIBDIR "lib/fcgimux" CACHE STRING
    "Where the kfcgi and spawn-fcgi links, the demo worker and fcgimux-php-trace go, relative to the prefix")
set(FCGIMUX_INSTALL_SYSTEMDDIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go, relative to the prefix (systemd reads /usr/lib and /usr/local/lib)")
set(staging "${PROJECT_BINARY_DIR}/packaging")

install(TARGETS fcgimux RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(TARGETS fcgimux-demo RUNTIME DESTINATION "${FCGIMUX_INSTALL_PKGLIBDIR}")
if(TARGET fcgimux-php-trace)
  install(TARGETS fcgimux-php-trace RUNTIME DESTINATION "${FCGIMUX_INSTALL_PKGLIBDIR}")
endif()

# The compatibility modes go by the name fcgimux was invoked as (kfcgi, spawn-fcgi). Relative links,
# so that they survive DESTDIR and packaging. The bin/ names leave kfcgi and spawn-fcgi to Debian's
# own packages; fcgimux(8) says how to make the links the default.
file(RELATIVE_PATH pkglib_to_bin "/prefix/${FCGIMUX_INSTALL_PKGLIBDIR}" "/prefix/${CMAKE_INSTALL_BINDIR}/fcgimux")
file(MAKE_DIRECTORY "${staging}/pkglib" "${staging}/bin")
foreach(name kfcgi spawn-fcgi)
  file(CREATE_LINK "${pkglib_to_bin}" "${staging}/pkglib/${name}" SYMBOLIC)
  file(CREATE_LINK fcgimux "${staging}/bin/fcgimux-${name}" SYMBOLIC)
  install(FILES "${staging}/pkglib/${name}" DESTINATION "${FCGIMUX_INSTALL_PKGLIBDIR}")
  install(FILES "${staging}/bin/fcgimux-${name}" DESTINATION "${CMAKE_INSTALL_BINDIR}")
endforeach()

# The manual, compressed as Debian's policy wants it.
find_program(FCGIMUX_GZIP gzip)
if(FCGIMUX_GZIP)
  add_custom_command(
    OUTPUT "${staging}/fcgimux.8.gz"
    COMMAND "${CMAKE_COMMAND}" -E copy "${PROJECT_SOURCE_DIR}/docs/fcgimux.8" "${staging}/fcgimux.8"
    COMMAND "${FCGIMUX_GZIP}" -9nf "${staging}/fcgimux.8"
    DEPENDS "${PROJECT_SOURCE_DIR}/docs/fcgimux.8"
    COMMENT "Compressing the manual page"
    VERBATIM)
  add_custom_target(fcgimux-man ALL DEPENDS "${staging}/fcgimux.8.gz")
  install(FILES "${staging}/fcgimux.8.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man8")
else()
  add_custom_target(fcgimux-man)
  install(FILES "${PROJECT_SOURCE_DIR}/docs/fcgimux.8" DESTINATION "${CMAKE_INSTALL_MANDIR}/man8")
endif()

# config/fcgimux.service names /usr/local/bin/fcgimux (ExecStart=, ExecReload=); the installed unit names the
# installed binary.
install(CODE "set(FCGIMUX_UNIT_IN \"${PROJECT_SOURCE_DIR}/config/fcgimux.service\")
set(FCGIMUX_UNIT_OUT \"${staging}/fcgimux.service\")
set(FCGIMUX_BINDIR \"${CMAKE_INSTALL_BINDIR}\")")
install(SCRIPT "${CMAKE_CURRENT_LIST_DIR}/install_unit.cmake")
install(FILES "${staging}/fcgimux.service" "${PROJECT_SOURCE_DIR}/config/fcgimux.socket"
        DESTINATION "${FCGIMUX_INSTALL_SYSTEMDDIR}")

# The licence (ISC, LICENSE) in Debian's machine-readable copyright format, where dpkg and
# Debian's policy want it: /usr/share/doc/fcgimux/copyright in the .deb.
install(FILES "${CMAKE_CURRENT_LIST_DIR}/deb-copyright" DESTINATION "${CMAKE_INSTALL_DOCDIR}" RENAME copyright)

# Examples rather than /etc/fcgimux/fcgimux.json: none of them serves without a choice of program
# and user, and a package must not start a pool nobody asked for.
install(FILES "${PROJECT_SOURCE_DIR}/config/php-host.json" "${PROJECT_SOURCE_DIR}/config/pools.json"
              "${PROJECT_SOURCE_DIR}/config/nginx-host.conf"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples")
