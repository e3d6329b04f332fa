#pragma once
/// Request signing for Alibaba Cloud RPC APIs: V3 (ACS3-HMAC-SHA256) and the
/// older V2 (HMAC-SHA1). Pure functions of their inputs, so the client signs
/// with them, the emulator verifies with them, and the documentation test
/// vectors pin both down.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rdns::provision {

/// Query parameters or headers in the order given; values are not encoded.
using Params = std::vector<std::pair<std::string, std::string>>;

/// RFC 3986 percent-encoding as Alibaba Cloud wants it: unreserved characters
/// (A-Z a-z 0-9 - _ . ~) kept, everything else %XX with upper-case hex, so a
/// space is %20 and '*' is %2A.
std::string percent_encode(std::string_view text);

/// Parameters sorted by name (byte order), encoded, joined as a=b&c=d.
std::string canonical_query(const Params& params);

/// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view data);

/// One HTTP request as the V3 signature sees it.
struct SignableRequest {
  std::string method;      ///< "POST" or "GET"
  std::string path = "/";  ///< "/" for every RPC-style action
  Params query;            ///< unencoded; canonical_query() sorts and encodes
  Params headers;          ///< must include host and every x-acs-* header to sign
  std::string body;
};

/// The parts of a V3 signature, kept for tests and for the emulator's diagnostics.
struct V3Signature {
  std::string canonical_request;
  std::string hashed_canonical_request;  ///< hex SHA-256 of canonical_request
  std::string signed_headers;            ///< "host;x-acs-action;..."
  std::string signature;                 ///< hex HMAC-SHA256
  /// The Authorization header value. Carries the key id but never the secret.
  std::string authorization;
};

/// Signs with ACS3-HMAC-SHA256. Signed headers are host, content-type and every
/// x-acs-* header present in request.headers (names lower-cased, sorted).
V3Signature sign_v3(const SignableRequest& request, std::string_view access_key_id,
                    std::string_view access_key_secret);

/// The V2 StringToSign: METHOD & %2F & percentEncode(canonical query).
std::string v2_string_to_sign(std::string_view method, const Params& params);

/// Base64 HMAC-SHA1 over v2_string_to_sign with key "secret&". params must
/// hold every parameter except Signature itself.
std::string sign_v2(std::string_view method, const Params& params,
                    std::string_view access_key_secret);

/// The raw HMAC-SHA256 of data under key (for signers that chain HMACs).
std::string hmac_sha256(std::string_view key, std::string_view data);
/// Lower-case hex of the bytes.
std::string hex_encode(std::string_view bytes);

/// Compares two signatures in time independent of where they differ.
bool signatures_equal(std::string_view a, std::string_view b);

/// A fresh random nonce: 32 hex characters from the OS random source.
std::string new_nonce();

/// The UTC time epoch_seconds as strftime's format writes it (at most 31
/// characters).
std::string utc_text(long long epoch_seconds, const char* format);

/// "YYYY-MM-DDTHH:MM:SSZ" for the given seconds since the epoch (UTC).
std::string iso8601_utc(long long epoch_seconds);

/// Inverse of iso8601_utc; -1 when the text is not exactly in that form.
long long parse_iso8601_utc(std::string_view text);

}  // namespace rdns::provision
