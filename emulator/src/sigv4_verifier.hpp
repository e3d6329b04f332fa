#pragma once
// The emulator's own check of AWS Signature Version 4, written from the AWS
// documentation ("Create a signed AWS API request", "Elements of an AWS API
// request signature") and independent of the client's signer
// (provision/src/sigv4.cpp): the canonical request is rebuilt from the raw
// request as received, so a bug shared by both sides cannot hide.

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "http_message.hpp"

namespace rdns::emulator {

/// A key the verifier accepts.
struct Sigv4Key {
  std::string id;
  std::string secret;
  std::string session_token;  ///< when set, requests must carry it as X-Amz-Security-Token
};

/// What the verifier is prepared to accept.
struct Sigv4Policy {
  std::string service = "ec2";
  std::set<std::string> regions;                                ///< credential scopes served
  std::chrono::seconds clock_window{5 * 60};                    ///< X-Amz-Date tolerance either way
  std::function<const Sigv4Key*(const std::string&)> find_key;  ///< nullptr: unknown key
};

/// The outcome: ok, or the EC2 error to answer with.
struct Sigv4Verdict {
  bool ok = false;
  int http_status = 0;
  std::string code;
  std::string message;
  const Sigv4Key* key = nullptr;  ///< set when ok
  std::string region;             ///< the credential scope's region, when ok
};

/// %XX-decodes a query string or form part, '+' as a space (as HTML forms send it).
std::string url_decode(std::string_view text);

/// Checks the Authorization header of request against policy at time now.
Sigv4Verdict verify_sigv4(const Incoming& request, const Sigv4Policy& policy,
                          std::chrono::system_clock::time_point now);

}  // namespace rdns::emulator
