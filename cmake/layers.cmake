# SPDX-License-Identifier: ISC
# The layers of src/ and what each may include, read from the `layers` block of docs/architecture.md
# (scripts/check-layers.sh reads the same block, so the build, the check and the doc agree).
#
# Every source includes "src/LAYER/file.hpp" or "proto/file.hpp" from an include root. A layer's
# target does not get the project's root but one of its own, build/layers/LAYER, holding a symlink
# to each directory it may include and nothing else: an include of a layer above does not resolve,
# and the build stops with "No such file or directory".

set(FCGIMUX_LAYERS_DOC "${PROJECT_SOURCE_DIR}/docs/architecture.md")
set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${FCGIMUX_LAYERS_DOC}")

file(STRINGS "${FCGIMUX_LAYERS_DOC}" fcgimux_doc_lines)
set(fcgimux_in_block FALSE)
set(FCGIMUX_LAYERS "")
foreach(line IN LISTS fcgimux_doc_lines)
  if(line MATCHES "^```layers")
    set(fcgimux_in_block TRUE)
  elseif(fcgimux_in_block AND line MATCHES "^```")
    break()
  elseif(fcgimux_in_block AND NOT line MATCHES "^[ \t]*(#|$)")
    string(REGEX MATCHALL "[a-z_]+" words "${line}")
    list(POP_FRONT words layer)
    list(APPEND FCGIMUX_LAYERS ${layer})
    set(FCGIMUX_LAYER_DEPS_${layer} ${words})
  endif()
endforeach()
if(NOT FCGIMUX_LAYERS)
  message(FATAL_ERROR "${FCGIMUX_LAYERS_DOC} has no ```layers block")
endif()

# build/layers/LAYER: LAYER itself and what it may include, as links into the source tree.
foreach(layer IN LISTS FCGIMUX_LAYERS)
  set(root "${PROJECT_BINARY_DIR}/layers/${layer}")
  # Only links are ever removed here: a recursive removal could follow one into the sources.
  file(GLOB stale LIST_DIRECTORIES true "${root}/src/*" "${root}/proto")
  foreach(link IN LISTS stale)
    if(IS_SYMLINK "${link}")
      file(REMOVE "${link}")
    endif()
  endforeach()
  file(MAKE_DIRECTORY "${root}/src")
  foreach(dir IN LISTS layer FCGIMUX_LAYER_DEPS_${layer})
    if(dir STREQUAL "proto")
      file(CREATE_LINK "${PROJECT_SOURCE_DIR}/proto" "${root}/proto" SYMBOLIC)
    else()
      file(CREATE_LINK "${PROJECT_SOURCE_DIR}/src/${dir}" "${root}/src/${dir}" SYMBOLIC)
    endif()
  endforeach()
endforeach()

# Gives TARGET the include root of LAYER (PUBLIC for the codec, whose users outside src/ need it).
function(fcgimux_layer_includes target layer)
  if(NOT layer IN_LIST FCGIMUX_LAYERS)
    message(FATAL_ERROR "layer ${layer} is not in the layers block of ${FCGIMUX_LAYERS_DOC}")
  endif()
  set(scope PRIVATE)
  if(layer STREQUAL "proto")
    set(scope PUBLIC)
  endif()
  target_include_directories(${target} ${scope} "${PROJECT_BINARY_DIR}/layers/${layer}")
endfunction()

# A layer's library: fcgimux_LAYER from its sources, with its include root, linking the layers
# it may include (those the doc lists for it).
function(fcgimux_layer layer)
  add_library(fcgimux_${layer} STATIC ${ARGN})
  fcgimux_layer_includes(fcgimux_${layer} ${layer})
  # Third-party headers only (cmake/pch.cmake): the include roots still decide what a layer sees.
  fcgimux_src_pch(fcgimux_${layer})
  foreach(dep IN LISTS FCGIMUX_LAYER_DEPS_${layer})
    target_link_libraries(fcgimux_${layer} PUBLIC fcgimux_${dep})
  endforeach()
endfunction()
