# SPDX-License-Identifier: ISC
# Unity builds: each target's sources compiled in batches of FCGIMUX_UNITY_BATCH files, one object
# per batch. A precompiled header saves parsing; every object still instantiates and optimises its
# own copy of Asio's, fmt's and Catch2's templates, and that is most of a build (docs/testing.md,
# "What the builds cost"). Batches never cross a target, so a layer's sources are still compiled
# with its own include root alone and an upward include still fails to build.
#
# Off by default, so that an edit recompiles one file; scripts/test.sh turns it on for its trees.
# A file that cannot share a batch (a name of its own at file scope that another file of the same
# target also defines) gets a new name, or SKIP_UNITY_BUILD_INCLUSION with a comment saying why.

option(FCGIMUX_UNITY "Compile each target's sources in batches (CMAKE_UNITY_BUILD)" OFF)
set(FCGIMUX_UNITY_BATCH 8 CACHE STRING "Source files per unity batch (FCGIMUX_UNITY)")

if(FCGIMUX_UNITY)
  set(CMAKE_UNITY_BUILD ON)
  set(CMAKE_UNITY_BUILD_BATCH_SIZE ${FCGIMUX_UNITY_BATCH})
endif()
