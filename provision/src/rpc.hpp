#pragma once
// The generic RPC caller shared by PtrClient and OwnershipChecker: signing,
// one reused libcurl handle, the error envelope and the retry policy.

#include <functional>
#include <optional>
#include <string>

#include <curl/curl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <provision/api_error.hpp>
#include <provision/client_config.hpp>
#include <provision/credentials.hpp>
#include <provision/signing.hpp>
#include <util/error.hpp>

namespace rdns::provision::detail {

using Json = nlohmann::json;

// libcurl plumbing shared by the clients of every provider.

/// curl_easy_setopt, checked: a request must not go out without an option
/// libcurl refused (a protocol limit, a timeout, proxy bypass).
template <typename Value>
void set_option(CURL* handle, CURLoption option, Value value) {
  const CURLcode result = curl_easy_setopt(handle, option, value);
  if (result != CURLE_OK) {
    const curl_easyoption* known = curl_easy_option_by_id(option);
    throw Error(Errc::internal,
                fmt::format("libcurl refused option {}: {}", known != nullptr ? known->name : "?",
                            curl_easy_strerror(result)));
  }
}

/// curl_global_init, once per process.
void global_init();
/// A CURLOPT_WRITEFUNCTION appending to the std::string in user.
std::size_t collect(char* data, std::size_t size, std::size_t count, void* user);

/// Frees a curl header list.
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

/// "http://127.0.0.1:8080/x" -> "127.0.0.1:8080"
std::string authority_of(const std::string& url);
/// Whether the authority's host is a 127.0.0.0/8 literal.
bool is_loopback_literal(const std::string& authority);
/// "Network.Timeout", "Network.ConnectionRefused", ... for a transport failure.
std::string network_code(CURLcode code);
/// Whether the failure is TLS's (certificate, handshake): never retried.
bool is_tls_failure(CURLcode code);

/// Looks for the outcome of an earlier attempt whose answer was lost; a value
/// ends the call with it, nullopt lets the call be retried.
using Reconcile = std::function<std::optional<Json>()>;

/// Signs and sends RPC calls, retrying as the notes prescribe.
class RpcClient {
 public:
  RpcClient(ClientConfig config, Credentials credentials);
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  /// Whether an attempt may go over a kept-alive connection.
  enum class Reuse { allowed, fresh_connection };

  /// Calls spec with params (wire names, RegionId added here). reconcile, when
  /// given, marks the action non-idempotent: it runs before any retry that
  /// follows an attempt the server may have carried out. Writes pass
  /// Reuse::fresh_connection (implied by a reconcile): libcurl silently sends
  /// a request again, nonce and signature unchanged, when a reused connection
  /// closes before any answer, so a write the server carried out would be
  /// replayed behind the client's back; on a new connection it never is, and
  /// every retry is the client's own, freshly signed.
  Json call(const ActionSpec& spec, Params params, const Reconcile& reconcile = {},
            Reuse reuse = Reuse::allowed);

  const ClientConfig& config() const { return config_; }

 private:
  /// The result of one attempt.
  struct Attempt {
    std::optional<Json> body;  // set on success
    ApiErrorKind kind = ApiErrorKind::unknown;
    std::string code;
    std::string message;
    std::string request_id;
    int http_status = 0;
  };

  Attempt perform(const ActionSpec& spec, const Params& params, Reuse reuse);
  ApiErrorKind classify(const std::string& code, const std::string& message, int status) const;
  void log(const std::string& line) const;

  ClientConfig config_;
  Credentials credentials_;
  CURL* curl_ = nullptr;
};

}  // namespace rdns::provision::detail
