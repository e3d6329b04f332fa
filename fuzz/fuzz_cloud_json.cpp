// The cloud API's success bodies: decoded or refused as a cloud error, never
// a crash or an exception of another kind.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include <util/error.hpp>

#include "responses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rdns::provision::detail;
  const Json body = Json::parse(data, data + size, nullptr, false);
  if (!body.is_object()) return 0;  // the client refuses these before decoding
  const std::set<std::string> wanted = {"192.0.2.1", "192.0.2.2"};
  const auto expect_cloud_error = [](const rdns::Error& error) {
    if (error.code() != rdns::Errc::cloud) __builtin_trap();
  };
  try {
    decode_ptr_page(body);
  } catch (const rdns::Error& error) {
    expect_cloud_error(error);
  }
  try {
    decode_verification_txt(body, "example.com");
    decode_record_id(body);
  } catch (const rdns::Error& error) {
    expect_cloud_error(error);
  }
  try {
    decode_eips(body);
  } catch (const rdns::Error& error) {
    expect_cloud_error(error);
  }
  try {
    std::size_t instances = 0;
    for (const auto& owned : decode_instances(body, wanted, instances)) {
      if (!wanted.contains(owned.ip)) __builtin_trap();
    }
  } catch (const rdns::Error& error) {
    expect_cloud_error(error);
  }
  return 0;
}
