# Sanitizer and fuzzing builds (docs/fuzzing.md). Both are off by default.
#
#   -DVPT_SANITIZE=address,undefined   every target with ASan + UBSan (GCC or clang)
#   -DVPT_SANITIZE=thread              ThreadSanitizer, for the bench kernels' threads
#   -DVPT_FUZZ=ON                      libFuzzer targets (clang only: -DCMAKE_CXX_COMPILER=clang++-16);
#                                      with VPT_SANITIZE=address,undefined one build directory
#                                      serves the sanitized unit tests and the fuzz targets
set(VPT_SANITIZE "" CACHE STRING "Sanitizers for every target: 'address,undefined' or 'thread' (empty: none)")
option(VPT_FUZZ "Build the libFuzzer targets in tests/fuzz (clang)" OFF)

# C++ targets only: the one C target, the in-guest probe (guest/), is a static
# program copied into guests, and static linking excludes the sanitizers' runtimes.
if(VPT_SANITIZE)
  # Any report is a failure: the first one stops the program (tests fail).
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${VPT_SANITIZE};-fno-omit-frame-pointer;-fno-sanitize-recover=all>")
  add_link_options("$<$<LINK_LANGUAGE:CXX>:-fsanitize=${VPT_SANITIZE}>")
  if(VPT_SANITIZE MATCHES "thread")
    add_compile_definitions(VPT_THREAD_SANITIZER=1)
  endif()
endif()

if(VPT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "VPT_FUZZ needs clang's libFuzzer: configure with -DCMAKE_CXX_COMPILER=clang++-16 "
                        "(Debian packages clang-16 and libclang-rt-16-dev)")
  endif()
  # Coverage for libFuzzer in every library; the fuzz targets link the fuzzer's main.
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link>")
endif()
