#pragma once
// AWS Signature Version 4, client side, written from the AWS General
// Reference ("Create a signed AWS API request") and pinned down by AWS's
// published SigV4 test suite. Pure functions: the caller supplies the time.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rdns::provision::sigv4 {

/// Name/value pairs in the order given; values are not encoded.
using Pairs = std::vector<std::pair<std::string, std::string>>;

/// One request as SigV4 sees it.
struct Request {
  std::string method = "POST";
  std::string path = "/";  ///< already URI-encoded as sent on the wire
  Pairs query;             ///< unencoded; sorted and encoded when signed
  Pairs headers;           ///< every one is signed; must hold host and x-amz-date
  std::string body;
};

/// Who signs, and for which region and service.
struct Scope {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;   ///< "us-east-1"
  std::string service;  ///< "ec2"
};

/// The intermediate values, kept so tests compare each with the suite.
struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  ///< "content-type;host;x-amz-date"
  std::string signature;       ///< lower-case hex
  /// The Authorization header value; it names the key ID, never the secret.
  std::string authorization;
};

/// RFC 3986 encoding as SigV4 wants it: A-Z a-z 0-9 - _ . ~ kept, every
/// other byte %XX with upper-case hex (a space is %20, never '+').
std::string uri_encode(std::string_view text);

/// "name=value&..." sorted by encoded name, then encoded value.
std::string canonical_query(const Pairs& query);

/// "20150830T123600Z" for seconds since the epoch (UTC).
std::string amz_date(long long epoch_seconds);

/// Signs request; its x-amz-date header gives the date of the credential scope.
/// Throws rdns::Error(Errc::internal) when host or x-amz-date is missing.
Signed sign(const Request& request, const Scope& scope);

}  // namespace rdns::provision::sigv4
