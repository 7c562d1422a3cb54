# SPDX-License-Identifier: ISC
# Precompiled headers: Asio, fmt, nlohmann/json, Catch2 and the standard library are parsed once per
# kind of target instead of once per object (docs/testing.md has the CPU seconds this saves).
#
# Three donors, each an object library of one empty source whose only job is its PCH; every other
# target reuses one of them (REUSE_FROM), so its flags must match the donor's in all that the
# headers see. GCC checks that (-Winvalid-pch, which CMake adds) and silently parses the headers
# instead if they do not match: correct, only slower.
#   src          the layers of src/ and fcgimux: Asio (with fcgimux_asio's definitions), fmt, json
#   tests        what stands outside the layers and links no layer: Catch2, json (not fmt: fmt::fmt
#                defines FMT_SHARED, which a test without it would not match)
#   tests_src    the same with Asio and fmt, for the tests that link a layer (and so their definitions)
# Only third-party and standard headers go in: a header of the project in a PCH would be seen by
# every layer, above or below it. proto/ and demo/ get none (the fuzzers build them with clang).
# -DFCGIMUX_PCH=OFF builds without, which shows a file that forgot an #include of its own.

option(FCGIMUX_PCH "Precompile the third-party headers (Asio, fmt, json, Catch2)" ON)

set(fcgimux_pch_std
  <algorithm> <array> <atomic> <charconv> <chrono> <cstdint> <cstring> <deque> <functional> <map>
  <memory> <mutex> <optional> <set> <string> <string_view> <system_error> <unordered_map> <utility>
  <vector>)
set(fcgimux_pch_asio
  <asio/any_io_executor.hpp> <asio/awaitable.hpp> <asio/co_spawn.hpp> <asio/error.hpp>
  <asio/experimental/as_tuple.hpp> <asio/generic/stream_protocol.hpp> <asio/io_context.hpp>
  <asio/ip/tcp.hpp> <asio/posix/stream_descriptor.hpp> <asio/post.hpp> <asio/read.hpp>
  <asio/steady_timer.hpp> <asio/use_awaitable.hpp> <asio/write.hpp>)
set(fcgimux_pch_fmt <fmt/core.h> <fmt/format.h>)
set(fcgimux_pch_tests <catch2/catch.hpp> <nlohmann/json.hpp> <filesystem> <fstream> <regex> <sstream> <thread>)

# fcgimux_pch_donor(KIND HEADERS... LINK libraries...)
function(fcgimux_pch_donor kind)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "HEADERS;LINK")
  set(source "${PROJECT_BINARY_DIR}/pch/${kind}.cpp")
  if(NOT EXISTS "${source}")
    file(WRITE "${source}" "// The PCH donor of kind ${kind} (cmake/pch.cmake): nothing but its headers.\n")
  endif()
  add_library(fcgimux_pch_${kind} OBJECT "${source}")
  target_link_libraries(fcgimux_pch_${kind} PRIVATE ${arg_LINK})
  target_precompile_headers(fcgimux_pch_${kind} PRIVATE ${arg_HEADERS})
endfunction()

if(FCGIMUX_PCH)
  fcgimux_pch_donor(src HEADERS ${fcgimux_pch_std} ${fcgimux_pch_asio} ${fcgimux_pch_fmt} <nlohmann/json.hpp>
                    LINK fcgimux_asio fmt::fmt nlohmann_json::nlohmann_json)
endif()

# Gives TARGET the src PCH (the layers' libraries and fcgimux).
function(fcgimux_src_pch target)
  if(FCGIMUX_PCH)
    target_precompile_headers(${target} REUSE_FROM fcgimux_pch_src)
  endif()
endfunction()

# Every target that LIST's targets link, transitively, into OUT (names only, generator expressions
# such as $<LINK_ONLY:x> unwrapped).
function(fcgimux_link_closure out)
  set(seen "")
  set(todo ${ARGN})
  while(todo)
    list(POP_FRONT todo t)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" t "${t}")
    if(t IN_LIST seen OR NOT TARGET ${t})
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(type ${t} TYPE)
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(direct ${t} LINK_LIBRARIES)
      if(direct)
        list(APPEND todo ${direct})
      endif()
    endif()
    get_target_property(interface ${t} INTERFACE_LINK_LIBRARIES)
    if(interface)
      list(APPEND todo ${interface})
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# Every target defined in DIR and below, into OUT.
function(fcgimux_targets_under dir out)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    fcgimux_targets_under("${sub}" more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

# The tests' PCH for every test binary and test library under tests/ (those that link Catch2 or
# the test support library), deferred to the end of the configuration so that a suite added later
# gets it too without a line of its own. The small helper programs (hostile worker, attackers, the
# roles' libfcgi programs) link neither and keep their plain builds.
function(fcgimux_tests_pch)
  if(NOT FCGIMUX_PCH)
    return()
  endif()
  fcgimux_pch_donor(tests HEADERS ${fcgimux_pch_std} ${fcgimux_pch_tests} LINK Catch2::Catch2)
  fcgimux_pch_donor(tests_src HEADERS ${fcgimux_pch_std} ${fcgimux_pch_asio} ${fcgimux_pch_fmt} ${fcgimux_pch_tests}
                    LINK Catch2::Catch2 fcgimux_asio fmt::fmt nlohmann_json::nlohmann_json)
  fcgimux_targets_under("${PROJECT_SOURCE_DIR}/tests" targets)
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(NOT type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|OBJECT_LIBRARY)$")
      continue()
    endif()
    get_target_property(own ${t} PRECOMPILE_HEADERS)
    get_target_property(reused ${t} PRECOMPILE_HEADERS_REUSE_FROM)
    if(own OR reused)
      continue()
    endif()
    get_target_property(direct ${t} LINK_LIBRARIES)
    if(NOT direct)
      continue()
    endif()
    fcgimux_link_closure(closure ${direct})
    if(NOT ("Catch2::Catch2" IN_LIST closure OR "fcgimux_test_support" IN_LIST closure OR
            t STREQUAL "fcgimux_test_support"))
      continue()
    endif()
    if("fcgimux_asio" IN_LIST closure)
      target_precompile_headers(${t} REUSE_FROM fcgimux_pch_tests_src)
    else()
      target_precompile_headers(${t} REUSE_FROM fcgimux_pch_tests)
    endif()
  endforeach()
endfunction()
