#pragma once
// Where the tests find the source tree, the build tree and the binaries
// under test. The values are compiled into one translation unit only, so
// every test file compiles the same way in any checkout (and a compiler
// cache shares them between checkouts).

namespace rdns::test {

const char* source_dir();
const char* build_dir();
const char* rdnsctl_binary();
const char* emulator_binary();

}  // namespace rdns::test
