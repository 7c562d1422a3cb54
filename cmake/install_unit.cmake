# SPDX-License-Identifier: ISC
# Runs at install time (install(SCRIPT)), when CMAKE_INSTALL_PREFIX is the one this install uses:
# writes config/fcgimux.service with ExecStart= and ExecReload= naming the installed binary.
set(bin "${FCGIMUX_BINDIR}/fcgimux")
if(NOT IS_ABSOLUTE "${bin}")
  set(bin "${CMAKE_INSTALL_PREFIX}/${bin}")
endif()
file(READ "${FCGIMUX_UNIT_IN}" unit)
foreach(key ExecStart ExecReload)
  string(REGEX REPLACE "\n${key}=[^ \n]*/fcgimux " "\n${key}=${bin} " unit "${unit}")
  string(FIND "${unit}" "\n${key}=${bin} " found)
  if(found EQUAL -1)
    message(FATAL_ERROR "${FCGIMUX_UNIT_IN}: no ${key}= line naming fcgimux to point at ${bin}")
  endif()
endforeach()
file(WRITE "${FCGIMUX_UNIT_OUT}" "${unit}")
