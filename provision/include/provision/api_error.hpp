#pragma once
/// The cloud API's error envelope as a typed error.

#include <string>

#include <util/error.hpp>

namespace rdns::provision {

/// What the client makes of an error Code, which decides whether to retry.
enum class ApiErrorKind {
  throttled,            ///< Throttling*: retried with backoff
  unavailable,          ///< InternalError, ServiceUnavailable, any 5xx: retried with backoff
  network,              ///< timeout, refused or reset connection: retried with backoff
  stale_request,        ///< InvalidTimeStamp.Expired, SignatureNonceUsed: re-signed once
  auth,                 ///< bad key, signature or permission: never retried
  validation,           ///< MissingParameter, InvalidParameter*: never retried
  ip_not_owned,         ///< "PTR IP information mismatch": the IP is not (or no longer) ours
  duplicate,            ///< the IP already has its one PTR record
  verification_failed,  ///< the value's root domain lacks the verification TXT
  not_found,            ///< no such record
  conflict,  ///< a DNS UPDATE's prerequisite failed: the record changed since it was read
  unknown,   ///< any other code: not retried
};

/// Whether the client retries this kind with backoff.
bool retried_with_backoff(ApiErrorKind kind);

/// Stable lower-case name of the kind ("throttled", "ip_not_owned", ...).
const char* to_string(ApiErrorKind kind);

/// A failed API call after retries. what() names the action and endpoint,
/// the Code, the server's Message (escaped) and the RequestId.
class ApiError : public rdns::Error {
 public:
  ApiError(ApiErrorKind kind, std::string code, const std::string& message, std::string request_id,
           int http_status, int attempts)
      : rdns::Error(Errc::cloud, message),
        kind_(kind),
        code_(std::move(code)),
        request_id_(std::move(request_id)),
        http_status_(http_status),
        attempts_(attempts) {}

  ApiErrorKind kind() const noexcept { return kind_; }
  /// The API's Code ("Throttling.User"), or "Network.*" for transport failures.
  const std::string& api_code() const noexcept { return code_; }
  const std::string& request_id() const noexcept { return request_id_; }
  /// 0 when no HTTP answer arrived.
  int http_status() const noexcept { return http_status_; }
  int attempts() const noexcept { return attempts_; }

 private:
  ApiErrorKind kind_;
  std::string code_;
  std::string request_id_;
  int http_status_;
  int attempts_;
};

}  // namespace rdns::provision
