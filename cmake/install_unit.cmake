# Runs at install time (install(SCRIPT)), when CMAKE_INSTALL_PREFIX is the one this install uses:
# writes config/fcgimux.service with ExecStart= naming the installed binary.
set(bin "${FCGIMUX_BINDIR}/fcgimux")
if(NOT IS_ABSOLUTE "${bin}")
  set(bin "${CMAKE_INSTALL_PREFIX}/${bin}")
endif()
file(READ "${FCGIMUX_UNIT_IN}" unit)
string(REGEX REPLACE "\nExecStart=[^ \n]*/fcgimux " "\nExecStart=${bin} " unit "${unit}")
string(FIND "${unit}" "\nExecStart=${bin} " found)
if(found EQUAL -1)
  message(FATAL_ERROR "${FCGIMUX_UNIT_IN}: no ExecStart= line naming fcgimux to point at ${bin}")
endif()
file(WRITE "${FCGIMUX_UNIT_OUT}" "${unit}")
