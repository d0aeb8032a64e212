# ON in the sanitizer and fuzz presets (CMakePresets.json, "sanitizer-build"); OFF in release, whose every warning
# is an error: g++ 12 reports warnings from system headers that come from a precompiled header.
option(CITYTWIN_PCH "Precompile the common standard and third-party headers (cmake/precompiled.hpp)" OFF)

# citytwin_precompile(TARGET [HEADER...]) precompiles cmake/precompiled.hpp (and the extra headers) for a
# target of three or more sources; for fewer, building the header costs more than it saves.
function(citytwin_precompile target)
  get_target_property(sources ${target} SOURCES)
  list(LENGTH sources count)
  if(CITYTWIN_PCH AND count GREATER_EQUAL 3)
    target_precompile_headers(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/precompiled.hpp ${ARGN})
  endif()
endfunction()

# citytwin_library(NAME SOURCES a.cpp b.cpp DEPS other_lib ...)
# One library target per folder under src/. Headers are included by their path from src/
# ("twin/twin.hpp"), so a reader always sees which layer a name comes from.
function(citytwin_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(citytwin_${name} STATIC ${ARG_SOURCES})
  target_include_directories(citytwin_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(citytwin_${name} PUBLIC ${ARG_DEPS} PRIVATE citytwin_warnings)
  citytwin_precompile(citytwin_${name})
endfunction()

# citytwin_slow_to_instrument(SOURCE...) marks the few sources (Boost.Beast's asynchronous operations,
# Boost.Geometry) that take 3 to 4 minutes each to compile with AddressSanitizer + UBSan at -O1, a third of
# the whole asan build. The sanitizer and fuzz builds compile them at -O0 (half the time) and without the
# precompiled header (built at -O1); the release build is unchanged. Call it from the folder of the target.
function(citytwin_slow_to_instrument)
  if(CITYTWIN_SANITIZE OR CITYTWIN_FUZZ)
    set_property(SOURCE ${ARGN} APPEND PROPERTY COMPILE_OPTIONS -O0)
    set_property(SOURCE ${ARGN} PROPERTY SKIP_PRECOMPILE_HEADERS ON)
  endif()
endfunction()
