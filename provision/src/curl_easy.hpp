#pragma once
// The libcurl pieces the provision clients share (the cloud RPC client and
// the PowerDNS client): checked options, the one global init, collecting a
// body, header lists, and where a URL points.

#include <memory>
#include <string>

#include <curl/curl.h>

namespace rdns::provision::detail {

/// curl_easy_setopt, checked: a request must not go out without an option
/// libcurl refused (a protocol limit, a timeout, proxy bypass).
void check_option(CURL* handle, CURLoption option, CURLcode result);

template <typename Value>
void set_option(CURL* handle, CURLoption option, Value value) {
  check_option(handle, option, curl_easy_setopt(handle, option, value));
}

/// curl_global_init, once per process.
void curl_global_once();

/// A CURLOPT_WRITEFUNCTION appending to the std::string in CURLOPT_WRITEDATA.
std::size_t append_to_string(char* data, std::size_t size, std::size_t count, void* user);

/// Frees a curl header list.
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

/// A header list that grows with append().
class HeaderList {
 public:
  void append(const std::string& line);
  curl_slist* get() const { return list_.get(); }

 private:
  std::unique_ptr<curl_slist, SlistDeleter> list_;
};

/// "http://127.0.0.1:8080/x" -> "127.0.0.1:8080"
std::string authority_of(const std::string& url);

/// Whether authority ("127.0.0.1:8080") is an IPv4 literal in 127.0.0.0/8.
bool is_loopback_literal(const std::string& authority);

/// "Network.Timeout", "Network.ConnectionRefused", "Network.ConnectionReset"
/// or "Network.Error" for a transfer that got no HTTP answer.
std::string network_code(CURLcode code);

/// Whether code is a TLS failure (never retried: it will not heal by itself).
bool is_tls_failure(CURLcode code);

}  // namespace rdns::provision::detail
