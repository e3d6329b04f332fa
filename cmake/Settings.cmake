# Compiler settings shared by every target, linked PRIVATE so they never leak
# into a consumer's flags.
add_library(rdns_settings INTERFACE)
target_compile_options(rdns_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough -Werror)

if(RDNS_ENABLE_SANITIZERS)
  target_compile_options(rdns_settings INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(rdns_settings INTERFACE -fsanitize=address,undefined)
endif()
