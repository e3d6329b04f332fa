#include "curl_easy.hpp"

#include <mutex>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <util/error.hpp>

namespace rdns::provision::detail {

void check_option(CURL* /*handle*/, CURLoption option, CURLcode result) {
  if (result == CURLE_OK) return;
  const curl_easyoption* known = curl_easy_option_by_id(option);
  throw Error(Errc::internal,
              fmt::format("libcurl refused option {}: {}", known != nullptr ? known->name : "?",
                          curl_easy_strerror(result)));
}

void curl_global_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t append_to_string(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

void HeaderList::append(const std::string& line) {
  curl_slist* grown = curl_slist_append(list_.get(), line.c_str());
  if (grown == nullptr) throw Error(Errc::internal, "curl_slist_append failed");
  static_cast<void>(list_.release());
  list_.reset(grown);
}

std::string authority_of(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  const auto end = url.find('/', start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

bool is_loopback_literal(const std::string& authority) {
  const std::string host = authority.substr(0, authority.rfind(':'));
  in_addr address{};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

std::string network_code(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return "Network.Timeout";
    case CURLE_COULDNT_CONNECT:
      return "Network.ConnectionRefused";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      return "Network.ConnectionReset";
    default:
      return "Network.Error";
  }
}

bool is_tls_failure(CURLcode code) {
  return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CONNECT_ERROR ||
         code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CACERT_BADFILE;
}

}  // namespace rdns::provision::detail
