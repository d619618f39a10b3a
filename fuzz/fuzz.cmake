# libFuzzer targets (LLMSIM_FUZZ=ON, clang only; scripts/fuzz configures build-fuzz/).
# Included from the top-level CMakeLists.txt before llmsim_core is defined, so the
# compile flags below instrument the same simulator sources the fuzz targets link.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "LLMSIM_FUZZ needs clang (libFuzzer): configure with CC=clang CXX=clang++")
endif()
# fuzzer-no-link: coverage instrumentation without a second main(); ASan+UBSan so memory
# errors and undefined behaviour abort like a crash and libFuzzer keeps the input.
# Debug information comes from the build type (RelWithDebInfo; -g1 when LLMSIM_SANITIZE
# shares this build with the sanitizer suite, as .ci/run does).
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer)
file(GLOB LLMSIM_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/*_fuzz.cpp)
set(LLMSIM_FUZZ_TARGETS "")
foreach(src ${LLMSIM_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  # llmsim_core is defined later in the top-level file; names resolve at generate time.
  target_link_libraries(${name} PRIVATE llmsim_core)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  list(APPEND LLMSIM_FUZZ_TARGETS ${name})
endforeach()
add_custom_target(fuzz_targets DEPENDS ${LLMSIM_FUZZ_TARGETS})
