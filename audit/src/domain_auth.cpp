#include "domain_auth.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <audit/domain_auth_records.hpp>
#include <audit/vocabulary.hpp>
#include <util/ascii.hpp>
#include <util/escape.hpp>

#include "dns_message.hpp"
#include "https_fetch.hpp"
#include "resolver.hpp"

namespace rdns::audit {
namespace {

using dns::RrType;

/// TXT strings looked at per name; a name holding more is remote data that
/// must not decide how much work the audit does.
constexpr std::size_t kMaxTxtRecords = 50;
/// Report domains of one DMARC record whose authorisation and MX are looked up.
constexpr std::size_t kMaxReportDomains = 10;
/// MX hosts compared with an MTA-STS policy: the ten the audit follows.
constexpr std::size_t kMaxMxHosts = 10;
constexpr std::size_t kMaxPolicyBytes = 64 * 1024;
constexpr std::string_view kPolicyPath = "/.well-known/mta-sts.txt";

std::string joined(const std::vector<std::string>& parts, std::string_view separator = "; ") {
  std::string text;
  for (const std::string& part : parts) {
    if (!text.empty()) text += separator;
    text += part;
  }
  return text;
}

/// "text/plain" from "Text/Plain; charset=utf-8".
std::string media_type(const std::string& content_type) {
  std::string type = ascii_lower(content_type.substr(0, content_type.find(';')));
  type.erase(0, type.find_first_not_of(" \t"));
  type.erase(type.find_last_not_of(" \t") + 1);
  return type;
}

/// `prefix` + "." + `domain` as a query name, or nullopt when the result
/// would be longer than a domain name may be (then no such record exists).
std::optional<DnsName> name_under(std::string_view prefix, const std::string& domain) {
  const std::string text = std::string(prefix) + "." + domain;
  if (text.size() > 253) return std::nullopt;
  return DnsName::from_dotted(text);
}

/// Whether reports for `domain` sent to `destination` leave its
/// organisation. Without the Public Suffix List, a destination is the
/// domain's own when one name is the other or lies under it.
bool external_destination(const std::string& domain, const std::string& destination) {
  const auto under = [](const std::string& child, const std::string& parent) {
    return child.size() > parent.size() && child.ends_with("." + parent);
  };
  return domain != destination && !under(domain, destination) && !under(destination, domain);
}

/// The policy fetch waits as long as the DNS retry schedule (first try,
/// doubled each retry), at least 5 s (a TLS handshake over the Internet)
/// and at most a minute.
std::chrono::milliseconds fetch_timeout(const AuditOptions& options) {
  const auto schedule = options.timeout * ((1L << (std::clamp(options.retries, 0, 10) + 1)) - 1);
  return std::clamp<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(schedule), std::chrono::seconds(5),
      std::chrono::seconds(60));
}

class AuthenticationCheck {
 public:
  AuthenticationCheck(BlockingLookup& lookup, const AuditOptions& options, std::string domain,
                      DomainExpansion& out)
      : lookup_(lookup), options_(options), domain_(std::move(domain)), out_(out) {}

  void run() {
    dmarc();
    mta_sts();
    tls_rpt();
  }

 private:
  struct TxtAnswer {
    bool failed = false;
    std::string failure;
    std::vector<std::string> texts;
  };

  struct MxAnswer {
    bool failed = false;
    std::string failure;
    bool nxdomain = false;
    std::vector<std::string> hosts;  ///< lower-cased, null MX left out
  };

  void finding(std::string_view code, std::string detail) {
    out_.findings.push_back(domain_finding(domain_, code, std::move(detail)));
  }

  static bool answered(const Reply& reply) {
    return reply.status == ReplyStatus::noerror || reply.status == ReplyStatus::nxdomain;
  }

  TxtAnswer txt_of(const std::optional<DnsName>& name) {
    TxtAnswer answer;
    if (!name) return answer;
    const Reply reply = lookup_.ask(*name, RrType::txt);
    if (!answered(reply)) {
      answer.failed = true;
      answer.failure = describe_failure(reply);
      return answer;
    }
    for (const dns::Record* record : dns::follow_chain(reply.message, *name, RrType::txt).records) {
      if (answer.texts.size() == kMaxTxtRecords) break;
      answer.texts.push_back(record->text);
    }
    return answer;
  }

  MxAnswer mx_of(const std::string& domain) {
    MxAnswer answer;
    const DnsName name = DnsName::from_dotted(domain);
    const Reply reply = lookup_.ask(name, RrType::mx);
    if (!answered(reply)) {
      answer.failed = true;
      answer.failure = describe_failure(reply);
      return answer;
    }
    answer.nxdomain = reply.status == ReplyStatus::nxdomain;
    std::vector<const dns::Record*> records;
    for (const dns::Record* record : dns::follow_chain(reply.message, name, RrType::mx).records) {
      if (!record->target.is_root()) records.push_back(record);
    }
    // The most preferred ones, as many as the audit follows.
    std::stable_sort(records.begin(), records.end(),
                     [](const auto* a, const auto* b) { return a->preference < b->preference; });
    for (std::size_t i = 0; i < records.size() && i < kMaxMxHosts; ++i) {
      answer.hosts.push_back(records[i]->target.key());
    }
    return answer;
  }

  static std::vector<std::string> matching(const std::vector<std::string>& texts,
                                           bool (*is_record)(std::string_view)) {
    std::vector<std::string> found;
    std::copy_if(texts.begin(), texts.end(), std::back_inserter(found),
                 [&](const std::string& text) { return is_record(text); });
    return found;
  }

  // DMARC -------------------------------------------------------------------

  void dmarc() {
    std::string source = domain_;
    TxtAnswer answer = txt_of(name_under("_dmarc", domain_));
    if (answer.failed) {
      finding("DMARC_TEMPFAIL", fmt::format("TXT lookup of _dmarc.{} failed: {}; DMARC not checked",
                                            domain_, answer.failure));
      return;
    }
    // Without the Public Suffix List, the organisational domain of RFC 7489
    // section 6.6.3 is approximated by the parent, one label up.
    const std::size_t dot = domain_.find('.');
    const std::string parent = dot == std::string::npos ? "" : domain_.substr(dot + 1);
    if (answer.texts.empty() && parent.find('.') != std::string::npos) {
      TxtAnswer inherited = txt_of(name_under("_dmarc", parent));
      if (inherited.failed) {
        finding("DMARC_TEMPFAIL", fmt::format("TXT lookup of _dmarc.{} failed: {}; DMARC not "
                                              "checked",
                                              parent, inherited.failure));
        return;
      }
      if (!matching(inherited.texts, &auth::is_dmarc_record).empty()) {
        answer = std::move(inherited);
        source = parent;
      }
    }
    const std::vector<std::string> records = matching(answer.texts, &auth::is_dmarc_record);
    if (records.empty() && !answer.texts.empty()) {
      finding("DMARC_INVALID",
              fmt::format("_dmarc.{} holds no TXT record beginning with v=DMARC1 (it holds {}); "
                          "receivers discard such records",
                          source, auth::quoted(answer.texts.front())));
      return;
    }
    if (records.empty()) {
      finding("DMARC_NONE",
              parent.find('.') != std::string::npos
                  ? fmt::format("no DMARC record at _dmarc.{} or _dmarc.{}", domain_, parent)
                  : fmt::format("no DMARC record at _dmarc.{}", domain_));
      return;
    }
    const std::string where =
        source == domain_ ? "" : fmt::format(" (the record of {}, one label up, applies)", source);
    if (records.size() > 1) {
      finding("DMARC_INVALID",
              fmt::format("_dmarc.{} holds {} DMARC records; receivers then apply none (RFC 7489 "
                          "section 6.6.3){}",
                          source, records.size(), where));
      return;
    }
    const auth::DmarcRecord record = auth::parse_dmarc(records.front());
    if (!record.problems.empty()) {
      finding("DMARC_INVALID",
              fmt::format("_dmarc.{}: {}{}", source, joined(record.problems), where));
    }
    dmarc_policy(record, source, where);
    if (record.aggregate_uris.empty()) {
      finding("DMARC_NO_REPORTS",
              fmt::format("no rua= destination: nobody receives the aggregate reports that show "
                          "who sends mail as the domain{}",
                          where));
    }
    report_destinations(record, source);
  }

  void dmarc_policy(const auth::DmarcRecord& record, const std::string& source,
                    const std::string& where) {
    // A subdomain under its parent's record gets the parent's sp, else its p.
    const bool inherited = source != domain_;
    const std::string& applied =
        inherited && !record.subdomain_policy.empty() ? record.subdomain_policy : record.policy;
    if (applied == "none") {
      finding("DMARC_MONITOR_ONLY",
              fmt::format("{}=none: receivers only report; mail failing DMARC is still "
                          "delivered{}",
                          inherited && !record.subdomain_policy.empty() ? "sp" : "p", where));
    } else if (!inherited && record.subdomain_policy == "none" && !record.policy.empty()) {
      finding("DMARC_MONITOR_ONLY",
              "sp=none: mail from the domain's subdomains that fails DMARC is still delivered");
    }
  }

  void report_destinations(const auth::DmarcRecord& record, const std::string& source) {
    std::set<std::string> seen;
    std::vector<std::string> uris = record.aggregate_uris;
    uris.insert(uris.end(), record.failure_uris.begin(), record.failure_uris.end());
    for (const std::string& uri : uris) {
      const std::optional<std::string> destination = auth::mailto_domain(uri);
      if (!destination || seen.count(*destination) != 0) continue;
      if (seen.size() == kMaxReportDomains) break;
      seen.insert(*destination);
      if (external_destination(source, *destination)) authorisation(source, *destination, uri);
      report_mx(*destination);
    }
  }

  /// RFC 7489 section 7.1: another organisation's mailbox takes the
  /// domain's reports only if it publishes SOURCE._report._dmarc.DEST.
  void authorisation(const std::string& source, const std::string& destination,
                     const std::string& uri) {
    const std::string name = source + "._report._dmarc." + destination;
    const TxtAnswer answer =
        txt_of(name.size() > 253 ? std::nullopt : std::optional(DnsName::from_dotted(name)));
    if (answer.failed) {
      finding("DMARC_TEMPFAIL",
              fmt::format("TXT lookup of {} failed: {}; whether {} accepts the reports is unknown",
                          name, answer.failure, destination));
      return;
    }
    if (!matching(answer.texts, &auth::is_dmarc_record).empty()) return;
    finding("DMARC_REPORT_UNAUTHORIZED",
            fmt::format("reports go to {} at another organisation, which has not agreed to take "
                        "them: no v=DMARC1 record at {} (RFC 7489 section 7.1); receivers do not "
                        "send them",
                        auth::quoted(uri), name));
  }

  void report_mx(const std::string& destination) {
    const MxAnswer answer = mx_of(destination);
    if (answer.failed) {
      finding("DMARC_TEMPFAIL",
              fmt::format("MX lookup of report domain {} failed: {}", destination, answer.failure));
    } else if (answer.nxdomain) {
      finding("DMARC_REPORT_NO_MX",
              fmt::format("report domain {} does not exist; its reports are lost", destination));
    } else if (answer.hosts.empty()) {
      finding("DMARC_REPORT_NO_MX",
              fmt::format("report domain {} has no MX record, so reports addressed to it may "
                          "not be delivered",
                          destination));
    }
  }

  // MTA-STS -----------------------------------------------------------------

  /// What tells one kind of policy record (MTA-STS, TLS-RPT) and its findings.
  struct RecordKind {
    std::string_view prefix;  ///< the owner is PREFIX.DOMAIN
    bool (*is_record)(std::string_view);
    std::vector<std::string> (*problems)(std::string_view);
    std::string_view version;  ///< what each record begins with
    std::string_view tempfail_code;
    std::string_view none_code;
    std::string_view invalid_code;
    std::string_view none_consequence;
    std::string_view invalid_consequence;
  };

  /// The one valid record of `kind`; nullopt (with a finding) when the
  /// lookup failed, or there is none, several or a broken one.
  std::optional<std::string> single_record(const RecordKind& kind) {
    const std::string owner = fmt::format("{}.{}", kind.prefix, domain_);
    const TxtAnswer answer = txt_of(name_under(kind.prefix, domain_));
    if (answer.failed) {
      finding(kind.tempfail_code,
              fmt::format("TXT lookup of {} failed: {}", owner, answer.failure));
      return std::nullopt;
    }
    const std::vector<std::string> records = matching(answer.texts, kind.is_record);
    if (records.empty()) {
      finding(kind.none_code,
              fmt::format("no {} record at {}: {}", kind.version, owner, kind.none_consequence));
      return std::nullopt;
    }
    if (records.size() > 1) {
      finding(kind.invalid_code,
              fmt::format("{} holds {} records beginning with {}; {}", owner, records.size(),
                          kind.version, kind.invalid_consequence));
      return std::nullopt;
    }
    if (const auto problems = kind.problems(records.front()); !problems.empty()) {
      finding(kind.invalid_code,
              fmt::format("{}: {}; {}", owner, joined(problems), kind.invalid_consequence));
      return std::nullopt;
    }
    return records.front();
  }

  void mta_sts() {
    static constexpr RecordKind kMtaSts{"_mta-sts",
                                        &auth::is_sts_record,
                                        &auth::sts_record_problems,
                                        "v=STSv1",
                                        "MTASTS_FETCH_FAILED",
                                        "MTASTS_NONE",
                                        "MTASTS_INVALID",
                                        "senders may deliver without TLS or to an impostor",
                                        "senders then ignore MTA-STS (RFC 8461 section 3.1)"};
    if (!single_record(kMtaSts)) return;
    const std::optional<std::string> body = fetch_policy();
    if (body) check_policy(auth::parse_sts_policy(*body));
  }

  std::string policy_url() const {
    return options_.mta_sts_port == 443 ? fmt::format("https://mta-sts.{}{}", domain_, kPolicyPath)
                                        : fmt::format("https://mta-sts.{}:{}{}", domain_,
                                                      options_.mta_sts_port, kPolicyPath);
  }

  /// The addresses of the policy host; nullopt (with a finding) when there
  /// is none or the lookup failed.
  std::optional<std::vector<IpAddress>> policy_host_addresses(const DnsName& host) {
    std::vector<IpAddress> found;
    std::string failure;
    for (const RrType type : {RrType::a, RrType::aaaa}) {
      const Reply reply = lookup_.ask(host, type);
      if (!answered(reply)) {
        failure = describe_failure(reply);
        continue;
      }
      for (const dns::Record* record : dns::follow_chain(reply.message, host, type).records) {
        if (record->address) found.push_back(*record->address);
      }
    }
    if (!found.empty()) return found;
    if (!failure.empty()) {
      finding("MTASTS_FETCH_FAILED", fmt::format("addresses of mta-sts.{} failed: {}; the policy "
                                                 "was not fetched",
                                                 domain_, failure));
    } else {
      finding("MTASTS_INVALID", fmt::format("_mta-sts.{} announces a policy, but mta-sts.{} has "
                                            "no address to fetch it from",
                                            domain_, domain_));
    }
    return std::nullopt;
  }

  /// The policy file; nullopt (with a finding) when it cannot be had.
  std::optional<std::string> fetch_policy() {
    const std::optional<DnsName> host = name_under("mta-sts", domain_);
    if (!host) return std::nullopt;
    const auto addresses = policy_host_addresses(*host);
    if (!addresses) return std::nullopt;
    HttpsRequest request;
    request.host = "mta-sts." + domain_;
    request.port = options_.mta_sts_port;
    request.path = kPolicyPath;
    request.addresses = *addresses;
    request.ca_file = options_.ca_file;
    request.timeout = fetch_timeout(options_);
    request.max_body = kMaxPolicyBytes;
    const HttpsResponse response = https_get(request);
    const std::string url = policy_url();
    switch (response.outcome) {
      case HttpsResponse::Outcome::unreachable:
        finding("MTASTS_FETCH_FAILED", fmt::format("{}: {}", url, response.error));
        return std::nullopt;
      case HttpsResponse::Outcome::certificate:
        finding("MTASTS_INVALID", fmt::format("{}: the certificate is not valid for mta-sts.{} "
                                              "({}); senders ignore the policy",
                                              url, domain_, response.error));
        return std::nullopt;
      case HttpsResponse::Outcome::too_large:
        finding("MTASTS_INVALID",
                fmt::format("{}: the policy is larger than {} KiB", url, kMaxPolicyBytes / 1024));
        return std::nullopt;
      case HttpsResponse::Outcome::ok:
        break;
    }
    if (response.status >= 500) {
      finding("MTASTS_FETCH_FAILED", fmt::format("{}: HTTP {}", url, response.status));
      return std::nullopt;
    }
    if (response.status != 200) {
      finding("MTASTS_INVALID",
              fmt::format("{}: HTTP {} instead of 200 (senders follow no redirect, RFC 8461 "
                          "section 3.3)",
                          url, response.status));
      return std::nullopt;
    }
    if (media_type(response.content_type) != "text/plain") {
      finding("MTASTS_INVALID", fmt::format("{}: content type {} instead of text/plain", url,
                                            auth::quoted(response.content_type)));
      return std::nullopt;
    }
    return response.body;
  }

  void check_policy(const auth::StsPolicy& policy) {
    if (!policy.problems.empty()) {
      finding("MTASTS_INVALID", fmt::format("{}: {}", policy_url(), joined(policy.problems)));
      return;
    }
    if (policy.mode == auth::StsMode::none) {
      finding("MTASTS_NONE", "the MTA-STS policy has mode none: MTA-STS is switched off");
      return;
    }
    if (policy.mode == auth::StsMode::testing) {
      finding("MTASTS_TESTING",
              "the MTA-STS policy has mode testing: senders report TLS failures but still "
              "deliver");
    }
    const MxAnswer mx = mx_of(domain_);
    if (mx.failed) return;  // MX_TEMPFAIL says so already
    for (const std::string& host : mx.hosts) {
      const bool covered =
          std::any_of(policy.mx.begin(), policy.mx.end(),
                      [&](const auto& pattern) { return auth::mx_pattern_matches(pattern, host); });
      if (covered) continue;
      finding("MTASTS_MX_MISMATCH",
              fmt::format("MX host {} matches no mx line of the policy ({}): senders that "
                          "enforce it will not deliver there",
                          escape_text(host), escape_text(joined(policy.mx, ", "))));
    }
  }

  // TLS-RPT -----------------------------------------------------------------

  void tls_rpt() {
    static constexpr RecordKind kTlsRpt{"_smtp._tls",
                                        &auth::is_tlsrpt_record,
                                        &auth::tlsrpt_problems,
                                        "v=TLSRPTv1",
                                        "TLSRPT_TEMPFAIL",
                                        "TLSRPT_NONE",
                                        "TLSRPT_INVALID",
                                        "nobody hears of failed TLS deliveries to the domain",
                                        "senders then send no reports (RFC 8460 section 3)"};
    single_record(kTlsRpt);
  }

  BlockingLookup& lookup_;
  const AuditOptions& options_;
  std::string domain_;
  DomainExpansion& out_;
};

}  // namespace

void check_domain_authentication(BlockingLookup& lookup, const AuditOptions& options,
                                 const std::string& domain, DomainExpansion& out) {
  AuthenticationCheck(lookup, options, domain, out).run();
}

}  // namespace rdns::audit
