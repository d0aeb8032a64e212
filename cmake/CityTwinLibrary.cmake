# citytwin_library(NAME SOURCES a.cpp b.cpp DEPS other_lib ...)
# One library target per folder under src/. Headers are included by their path from src/
# ("twin/twin.hpp"), so a reader always sees which layer a name comes from.
function(citytwin_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(citytwin_${name} STATIC ${ARG_SOURCES})
  target_include_directories(citytwin_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(citytwin_${name} PUBLIC ${ARG_DEPS} PRIVATE citytwin_warnings)
endfunction()
