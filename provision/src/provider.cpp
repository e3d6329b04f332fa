#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <provision/aws_provider.hpp>
#include <provision/provider.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::provision {

const std::vector<std::string>& provider_names() {
  static const std::vector<std::string> names{"alibaba", "rfc2136", "powerdns", "aws"};
  return names;
}

std::unique_ptr<PtrProvider> make_provider(const std::string& name, const ClientConfig& config,
                                           const Credentials& credentials) {
  if (name == "alibaba") return std::make_unique<AlibabaPtrProvider>(config, credentials);
  if (name == "aws") return std::make_unique<AwsPtrProvider>(config, credentials);
  if (name == "rfc2136") {
    // Its settings are a server, a TSIG key and prefixes, not the cloud's.
    throw Error(Errc::usage,
                "the rfc2136 provider is made from its own settings "
                "(make_rfc2136_provider, --dns-server, --tsig-key)");
  }
  if (name == "powerdns") {
    // Its settings are a server URL and an API key, not cloud credentials.
    throw Error(Errc::usage,
                "the powerdns provider is made from its own settings "
                "(PowerDnsPtrProvider, --pdns-url)");
  }
  throw Error(Errc::usage, fmt::format("unknown provider \"{}\": expected {}", escape_text(name),
                                       fmt::join(provider_names(), ", ")));
}

AlibabaPtrProvider::AlibabaPtrProvider(const ClientConfig& config, const Credentials& credentials)
    : client_(config, credentials), owner_(config, credentials) {}

const std::string& AlibabaPtrProvider::name() const {
  return provider_names().front();
}

ProviderCapabilities AlibabaPtrProvider::capabilities() const {
  ProviderCapabilities capabilities;
  capabilities.supports_disable = true;
  capabilities.needs_domain_verification = true;
  capabilities.bills_records = true;
  capabilities.ipv6_refusal = "the cloud's PTR records are IPv4 only";
  capabilities.owned_means =
      "an EIP or ECS public IP of this account in this region (the cloud would answer \"PTR IP "
      "information mismatch\")";
  return capabilities;
}

std::vector<Ownership> AlibabaPtrProvider::ownership(const std::vector<std::string>& ips) {
  return owner_.check(ips);
}

PtrListing AlibabaPtrProvider::list() {
  return client_.describe();
}

std::vector<PtrRecord> AlibabaPtrProvider::read(const std::string& ip) {
  return client_.describe(ip).records;
}

std::string AlibabaPtrProvider::write(const std::string& ip, const std::string& value, int ttl,
                                      const std::string& current_record_id) {
  if (current_record_id.empty()) return client_.create(ip, value, ttl).record_id;
  client_.update(current_record_id, value, ttl);
  return current_record_id;
}

void AlibabaPtrProvider::remove(const std::string& /*ip*/, const std::string& current_record_id) {
  client_.remove(current_record_id);
}

void AlibabaPtrProvider::set_status(const std::string& /*ip*/, const std::string& current_record_id,
                                    PtrStatus status) {
  client_.set_status(current_record_id, status);
}

std::optional<VerificationTxt> AlibabaPtrProvider::verification_txt(const std::string& value) {
  return client_.verification_txt(value);
}

const std::string& AlibabaPtrProvider::last_request_id() const {
  return client_.last_request_id();
}

}  // namespace rdns::provision
