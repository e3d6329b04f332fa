# Compiler settings shared by every target, linked PRIVATE so they never leak
# into a consumer's flags.
add_library(rdns_settings INTERFACE)
target_compile_options(rdns_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough)

# Warnings stop the build only where the project's own checks run (the ci and
# asan-ubsan presets): a user's or a distribution's compiler may warn about
# things this one does not, and must still build.
option(RDNS_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)
if(RDNS_WARNINGS_AS_ERRORS)
  target_compile_options(rdns_settings INTERFACE -Werror)
endif()

if(RDNS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "RDNS_FUZZ needs clang (libFuzzer): use the fuzz preset")
  endif()
  # The libraries get coverage instrumentation and the sanitizers; the fuzz
  # targets link libFuzzer's main (fuzz/CMakeLists.txt).
  target_compile_options(rdns_settings INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(rdns_settings INTERFACE -fsanitize=address,undefined)
endif()

if(RDNS_ENABLE_SANITIZERS)
  target_compile_options(rdns_settings INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(rdns_settings INTERFACE -fsanitize=address,undefined)
endif()
