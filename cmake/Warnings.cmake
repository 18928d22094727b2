# Every majordome target links majordome_warnings; third-party headers are SYSTEM so their
# warnings stay out of ours.
add_library(majordome_warnings INTERFACE)
target_compile_options(majordome_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough
  # GCC 12 reports null dereferences inside libstdc++'s own string/stream code at -O2.
  $<$<CXX_COMPILER_ID:Clang>:-Wnull-dereference>
  $<$<BOOL:${MAJORDOME_WERROR}>:-Werror>
  # GCC 12 reports std::variant members as maybe-uninitialized at -O2 (a known false
  # positive, GCC bug 105593 and friends); clang builds still check it.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>
  # Requests are aggregates with defaults, filled by designated initializers naming only
  # what differs ({.dataset_types = {"raw"}, .limit = 10}); -Wextra would flag every one.
  -Wno-missing-field-initializers)

if(MAJORDOME_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# majordome_module(NAME SOURCES ... DEPENDS ...): a static library majordome_NAME with
# the public headers under include/ and the module's private headers beside its sources.
function(majordome_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  add_library(majordome_${name} STATIC ${ARG_SOURCES})
  add_library(majordome::${name} ALIAS majordome_${name})
  target_include_directories(majordome_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(majordome_${name} PUBLIC ${ARG_DEPENDS} PRIVATE ${ARG_PRIVATE_DEPENDS} majordome_warnings)
  set_target_properties(majordome_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
