#include "test_paths.hpp"

namespace rdns::test {

const char* source_dir() {
  return RDNS_SOURCE_DIR;
}
const char* build_dir() {
  return RDNS_BUILD_DIR;
}
const char* rdnsctl_binary() {
  return RDNSCTL_BINARY;
}
const char* emulator_binary() {
  return RDNS_EMULATOR_BINARY;
}

}  // namespace rdns::test
