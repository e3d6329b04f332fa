#pragma once
// The emulator's own reading of Alibaba Cloud's request signatures (V3
// ACS3-HMAC-SHA256 and V2 HMAC-SHA1), written from the documentation and
// independent of the client's signer in provision/: a bug shared by both
// sides would otherwise pass every test. It works on the request as received
// (raw target, header values, body), never on what the client meant to send.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rdns::emulator::acs {

/// Percent-decoding of a query component; a '+' stays a plus sign.
std::string percent_decode(std::string_view text);

/// Lower-case hex SHA-256 of the bytes.
std::string hex_sha256(std::string_view data);

/// The V3 canonical request of a received request: the path as sent, the
/// query decoded and re-encoded (RFC 3986, upper-case hex) and sorted, the
/// named headers as "name:value\n" in the order given, the names joined by
/// ';', and the body's hex SHA-256.
std::string v3_canonical_request(std::string_view method, std::string_view target,
                                 const std::map<std::string, std::string>& headers,
                                 const std::vector<std::string>& signed_names,
                                 std::string_view body);

/// Hex HMAC-SHA256(secret, "ACS3-HMAC-SHA256\n" + hex SHA-256(canonical request)).
std::string v3_signature(std::string_view canonical_request, std::string_view secret);

/// The V2 signature a request's query should carry: Base64 HMAC-SHA1 with
/// key secret + "&" over METHOD&%2F&encode(sorted query without Signature).
std::string v2_signature(std::string_view method, std::string_view target, std::string_view secret);

/// Whether names are lower-case and in byte order without repeats, as the
/// documentation asks of SignedHeaders.
bool signed_names_canonical(const std::vector<std::string>& names);

/// Compares two signatures in time that does not depend on where they differ.
bool same_signature(std::string_view a, std::string_view b);

/// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ"; -1 for any other text.
long long utc_seconds(std::string_view iso8601);

}  // namespace rdns::emulator::acs
