// The findings vocabulary. Plain words on purpose: the reader is a
// postmaster or a compliance officer, and the fix names who has to act (the
// owner of the reverse zone, usually the ISP or cloud provider, or the owner
// of the forward zone).

#include <algorithm>
#include <array>

#include <audit/vocabulary.hpp>

namespace rdns::audit {
namespace {

constexpr std::size_t kAddressCodes = static_cast<std::size_t>(Code::forward_not_checked) + 1;

constexpr auto kCodes = std::to_array<CodeEntry>({
    // Address codes, in the order of the Code enum.
    {"NO_PTR", Severity::error, Scope::address, true, "No reverse DNS",
     "The address has no PTR record. Gmail, Microsoft, Yahoo and most spam filters reject or junk "
     "mail from such an address.",
     "Ask whoever controls the reverse zone (your ISP or cloud provider; for your own block, your "
     "DNS team) to publish a PTR naming the mail server, e.g. mail.example.com, and give that name "
     "an A/AAAA record pointing back to this address."},
    {"PTR_NO_FORWARD", Severity::error, Scope::address, true, "PTR name does not resolve",
     "The PTR names a host that has no address of this IP's family, so reverse DNS cannot be "
     "forward-confirmed (FCrDNS fails).",
     "Add an A (IPv4) or AAAA (IPv6) record for the PTR name pointing to this address, or change "
     "the PTR to a name that has one."},
    {"FORWARD_MISMATCH", Severity::error, Scope::address, true, "PTR name points elsewhere",
     "The PTR name resolves, but not to this address, so receivers treat the reverse DNS as "
     "unconfirmed.",
     "Add this address to the PTR name's A/AAAA records, or set the PTR to the host name that "
     "really resolves to this address."},
    {"FAMILY_MISMATCH", Severity::error, Scope::address, true,
     "PTR name has only the other address family",
     "The PTR name resolves only to IPv6 for an IPv4 sender (or only to IPv4 for an IPv6 sender); "
     "receivers compare within the family and fail the check.",
     "Add the missing A (for IPv4) or AAAA (for IPv6) record for the PTR name."},
    {"MULTIPLE_PTR", Severity::warning, Scope::address, true, "Several PTR values",
     "The address has more than one PTR. Receivers such as Postfix use one at random, so checks "
     "pass or fail unpredictably.",
     "Keep exactly one PTR, the mail server's canonical name, and remove the others."},
    {"GENERIC_PTR", Severity::warning, Scope::address, true, "Generic or dynamic-looking name",
     "The name embeds the address or a dynamic-pool word (dhcp, dyn, pool...), which spam filters "
     "score as a home or dynamic connection.",
     "Set a specific PTR for the mail server, e.g. mail.example.com, with a matching A/AAAA "
     "record."},
    {"PROVIDER_DEFAULT_PTR", Severity::warning, Scope::address, true,
     "Cloud provider's default name",
     "The PTR is the name the provider assigns when nobody configured one; receivers read it as an "
     "unmanaged host.",
     "Set a custom reverse DNS name in the provider's console or API (most require the name's A "
     "record to exist first)."},
    {"INVALID_PTR_NAME", Severity::error, Scope::address, true, "PTR is not a valid host name",
     "The PTR value is not a usable host name (bad characters, a single label, an IP literal, a "
     "numeric top-level label). Receivers ignore or distrust it; its forward records were not "
     "looked up.",
     "Replace the PTR with a fully qualified host name of letters, digits and hyphens, such as "
     "mail.example.com, that resolves back to this address."},
    {"PTR_TARGET_CNAME", Severity::warning, Scope::address, true, "PTR points to an alias",
     "The PTR names a CNAME rather than a host (RFC 1912 section 2.4); some receivers do not "
     "follow it.",
     "Point the PTR at the canonical host name (the CNAME's target) instead."},
    {"CLASSLESS_DELEGATION", Severity::info, Scope::address, false, "Classless delegation followed",
     "The reverse name is a CNAME into an RFC 2317 child zone; it was followed and is fine.",
     "Nothing to fix; keep the CNAMEs in the parent zone in step with the child zone."},
    {"TEMPFAIL", Severity::warning, Scope::address, false, "Lookup failed temporarily",
     "A DNS server answered SERVFAIL or REFUSED or did not answer, so nothing was proven either "
     "way; receivers will defer mail (4xx) while this lasts.",
     "Run the audit again later; if it persists, check the authoritative servers of the zone named "
     "in the detail."},
    {"LAME_REVERSE", Severity::error, Scope::address, false, "Reverse zone does not answer",
     "The servers delegated for the reverse zone do not answer although its parent does, so every "
     "receiver's lookup fails or times out.",
     "Ask the owner of the reverse zone (or the parent's operator) to fix the delegation: the NS "
     "records must point at servers that serve the zone."},
    {"TTL_NOTE", Severity::info, Scope::address, false, "Unusual TTL",
     "The PTR's TTL is very short or long, or far from the forward record's TTL; changes will "
     "propagate unevenly.",
     "Give the PTR a TTL in the usual range (about 10 minutes to a day), close to its A/AAAA "
     "record's TTL."},
    {"HELO_MISMATCH", Severity::warning, Scope::address, false, "SMTP name differs from the PTR",
     "The server greets or answers EHLO with a name that is not its forward-confirmed PTR name; "
     "filters such as SpamAssassin and Proofpoint score that, though RFC 5321 forbids refusing "
     "mail for it.",
     "Set the MTA's host name (Postfix myhostname, Exim primary_hostname) to the PTR name, or "
     "change the PTR to the name the server uses."},
    {"HELO_INVALID", Severity::warning, Scope::address, false, "SMTP name is not a host name",
     "The greeting or EHLO name is a bare address, localhost or a single label, which receivers "
     "treat as a misconfigured or compromised host.",
     "Give the MTA a fully qualified host name that matches the PTR."},
    {"SMTP_UNAVAILABLE", Severity::info, Scope::address, false, "No SMTP greeting",
     "Nothing greeted on the SMTP port. That is normal for an address that only sends mail.",
     "Nothing to fix unless this address should receive mail; then check the firewall and the "
     "MTA."},
    {"DNSBL_LISTED", Severity::error, Scope::address, false, "Listed on a DNS blocklist",
     "A DNS blocklist (--dnsbl) lists the address; receivers that use the list reject or junk "
     "its mail. The detail names the list, the code's meaning and the list's own reason. The "
     "severity is the code's (a policy listing such as Spamhaus PBL of a mail server is an "
     "error too).",
     "Find out why (the reason text, the list's lookup page), fix the cause (a compromised "
     "host, an open relay, mail sent straight from an end-user range), then request removal "
     "from the list."},
    {"DNSBL_ERROR", Severity::warning, Scope::address, false, "Blocklist did not answer",
     "The blocklist query failed (SERVFAIL, a timeout) or the answer was an error code, not a "
     "listing: a refusal (127.0.0.1), Spamhaus's 127.255.255.x (public resolver, rate limit), "
     "or an address outside 127.0.0.0/8 from a resolver that rewrites answers. Whether the "
     "address is listed is unknown.",
     "Follow the advice in the detail: usually, query through your own recursive resolver, "
     "not a public one, or use the list's key (--dnsbl-key)."},
    {"DNSBL_UNTRUSTED", Severity::warning, Scope::address, false, "Blocklist not asked",
     "A list was not asked in this run: it failed the RFC 5782 self-test at the start of the "
     "run (127.0.0.2 must be listed and 127.0.0.1 must not; it answers everything, as a parked "
     "or expired zone does, nothing, or only errors), or it answers only with a key and none "
     "was given. Whether the address is on it is unknown.",
     "Give the list's key, remove the list from your rules, or fix the resolver path to it; "
     "the run's warnings say which."},
    {"SMTP_NO_STARTTLS", Severity::warning, Scope::address, false, "SMTP server offers no TLS",
     "The EHLO reply does not list STARTTLS, so mail to this server travels in clear text; "
     "Gmail marks such mail, and an MTA-STS policy in enforce mode makes senders refuse it.",
     "Enable STARTTLS in the MTA with a certificate for its host name (Postfix: "
     "smtpd_tls_security_level = may and smtpd_tls_chain_files)."},
    {"SMTP_TLS_FAILED", Severity::error, Scope::address, false, "STARTTLS fails",
     "The server offers STARTTLS but the handshake fails, or it negotiates a protocol older than "
     "TLS 1.2: senders that require TLS cannot deliver, the others fall back to clear text.",
     "Fix the MTA's TLS settings: a valid certificate and key, TLS 1.2 or later enabled."},
    {"SMTP_TLS_UNTRUSTED", Severity::warning, Scope::address, false, "Certificate not trusted",
     "The certificate does not chain to a trusted CA (self-signed, an unknown CA, a missing "
     "intermediate). Opportunistic senders still deliver, but MTA-STS and DANE-less policies "
     "that verify do not.",
     "Install a certificate from a public CA with its full chain."},
    {"SMTP_TLS_NAME_MISMATCH", Severity::warning, Scope::address, false,
     "Certificate names another host",
     "No name in the certificate covers the MX host name or the PTR name of the address, so "
     "senders that verify names (MTA-STS) refuse it.",
     "Use a certificate whose subject alternative names include the MX host name the server "
     "answers for."},
    {"SMTP_TLS_EXPIRING", Severity::warning, Scope::address, false, "Certificate expires soon",
     "The server's certificate expires within 14 days.",
     "Renew the certificate (and check the renewal job that should have done it)."},
    {"SMTP_TLS_EXPIRED", Severity::error, Scope::address, false, "Certificate expired",
     "The server's certificate has expired: senders that verify refuse to deliver.",
     "Renew the certificate now and reload the MTA."},
    {"FORWARD_NOT_CHECKED", Severity::info, Scope::address, false,
     "PTR present, forward not checked",
     "The audit ran with --ptr-only: the PTR exists and its names were judged, but their A/AAAA "
     "records were not looked up, so whether reverse DNS is forward-confirmed is unknown.",
     "Run the audit without --ptr-only to check FCrDNS."},

    // Findings about a mail domain (--domain), not about one address.
    {"DOMAIN_NXDOMAIN", Severity::error, Scope::domain, false, "Domain does not exist",
     "The mail domain has no DNS data at all (NXDOMAIN), so nobody can send it mail or check mail "
     "it sends.",
     "Check the spelling, or register and delegate the domain."},
    {"MX_INVALID", Severity::error, Scope::domain, false, "MX names an invalid host",
     "An MX record names something that is not a host name (an IP literal, a bad label), which "
     "senders cannot use.",
     "Make every MX record name a host with A/AAAA records, e.g. mx1.example.com."},
    {"MX_NO_ADDRESS", Severity::error, Scope::domain, false, "MX host has no address",
     "An MX host name has no A or AAAA record, so mail for the domain cannot be delivered to it.",
     "Publish the MX host's A/AAAA records, or remove the MX record."},
    {"MX_TEMPFAIL", Severity::warning, Scope::domain, false, "MX lookup failed temporarily",
     "Looking up the domain's MX records or an MX host's addresses failed (SERVFAIL, REFUSED or "
     "no answer); nothing was proven and those addresses were not audited.",
     "Run the audit again later; if it persists, check the domain's authoritative servers."},
    {"MX_NULL", Severity::info, Scope::domain, false, "Domain accepts no mail",
     "The domain publishes a null MX (RFC 7505): it declares it receives no mail.",
     "Nothing to fix if the domain should not receive mail."},
    {"MX_NONE", Severity::info, Scope::domain, false, "No MX record",
     "Without MX records the domain's own address is its implicit MX (RFC 5321); that address "
     "was audited instead.",
     "Publish MX records if the domain receives mail on other hosts."},
    {"SPF_PERMERROR", Severity::error, Scope::domain, false, "SPF record is broken",
     "The SPF record cannot be evaluated (several records, a loop, more than 10 lookups, a "
     "malformed term); receivers treat that as a permanent error and may reject the mail.",
     "Publish exactly one valid v=spf1 record within the 10-lookup limit; the detail names the "
     "broken part."},
    {"SPF_TEMPFAIL", Severity::warning, Scope::domain, false, "SPF lookup failed temporarily",
     "A lookup the SPF record needs failed temporarily; the addresses of that branch were not "
     "audited.",
     "Run the audit again later; if it persists, check the servers of the name in the detail."},
    {"SPF_NONE", Severity::info, Scope::domain, false, "No SPF record",
     "The domain publishes no SPF record, so only its MX hosts were audited as senders; "
     "receivers cannot check which addresses may send for it.",
     "Publish a v=spf1 record listing the addresses that send the domain's mail."},
    {"SPF_TOO_BROAD", Severity::warning, Scope::domain, false, "SPF authorises a huge range",
     "A term of the SPF record authorises a large share of the whole address space (such as "
     "ip4:0.0.0.0/0 or a/0), so practically any server may send mail that passes SPF for the "
     "domain.",
     "Replace the term with the addresses and ranges that really send the domain's mail."},
    {"SPF_NEUTRAL_ALL", Severity::warning, Scope::domain, false, "SPF ends in ?all",
     "The record ends with ?all: mail from servers it does not list is neither passed nor "
     "failed, so SPF protects nothing for them.",
     "End the record with ~all (soft fail) or -all (fail) once every sender is listed."},
    {"SPF_PTR_MECHANISM", Severity::warning, Scope::domain, false, "SPF uses ptr",
     "The record uses the ptr mechanism, which RFC 7208 section 5.5 says not to use: it is "
     "slow and unreliable, and many receivers do not evaluate it.",
     "Replace ptr with ip4/ip6 ranges or a: names of the sending servers."},
    {"SPF_RECORD_LONG", Severity::warning, Scope::domain, false, "SPF record too long",
     "The SPF record is longer than 450 bytes (RFC 7208 section 3.4 advises keeping the answer "
     "within 512 bytes): receivers must retry over TCP or with EDNS, and some give up.",
     "Move parts of the record into include: records of their own."},
    {"SENDERS_NOT_AUDITED", Severity::info, Scope::domain, false,
     "Some authorised addresses not audited",
     "An SPF term authorises more addresses than one term may add to an audit (65,536: an IPv4 "
     "/16 or an IPv6 /112), or the audit reached --max-ips; those addresses were left out "
     "rather than growing the audit without bound.",
     "Audit the addresses of that range that send mail directly, e.g. from a file."},
    {"SPF_UNSUPPORTED", Severity::info, Scope::domain, false, "SPF macro not expanded",
     "A term uses an SPF macro, which depends on each message; its addresses could not be listed "
     "and were not audited.",
     "Nothing to fix; audit the addresses such terms stand for directly if they send mail."},
    {"DMARC_NONE", Severity::warning, Scope::domain, false, "No DMARC record",
     "The domain publishes no DMARC record (at _dmarc.DOMAIN, nor at the parent one label up), "
     "so anyone can send mail in its name and receivers have no policy to apply; Gmail and Yahoo "
     "require one from bulk senders.",
     "Publish a TXT record at _dmarc.DOMAIN such as \"v=DMARC1; p=none; "
     "rua=mailto:dmarc@DOMAIN\", read the reports, then move to p=quarantine or p=reject."},
    {"DMARC_INVALID", Severity::error, Scope::domain, false, "DMARC record is broken",
     "The DMARC record cannot be used as written (several records, one not beginning with "
     "v=DMARC1, a missing or unknown p=, a bad sp, pct, adkim, aspf, fo or report address); "
     "receivers may ignore the whole record.",
     "Publish exactly one TXT record at _dmarc.DOMAIN beginning with v=DMARC1 followed by p=; the "
     "detail names the broken tag."},
    {"DMARC_MONITOR_ONLY", Severity::warning, Scope::domain, false, "DMARC only monitors",
     "The policy is p=none (or sp=none for subdomains): receivers report, but still deliver mail "
     "that fails DMARC, so the domain is not protected against spoofing.",
     "Once the reports show every legitimate sender passing, change to p=quarantine, then "
     "p=reject."},
    {"DMARC_NO_REPORTS", Severity::info, Scope::domain, false, "No DMARC reports requested",
     "The DMARC record has no rua= address, so nobody sees which servers send mail as the "
     "domain or which of them fail.",
     "Add rua=mailto:ADDRESS to the record, a mailbox or a report service you read."},
    {"DMARC_REPORT_UNAUTHORIZED", Severity::warning, Scope::domain, false,
     "DMARC reports to an unauthorised domain",
     "A rua/ruf address is at another organisation's domain, which does not publish the record "
     "that accepts this domain's reports (DOMAIN._report._dmarc.DEST, RFC 7489 section 7.1); "
     "receivers do not send reports there.",
     "Ask the report receiver to publish TXT \"v=DMARC1\" at DOMAIN._report._dmarc.DEST (report "
     "services do this when the domain is registered with them), or use an address of your own "
     "domain."},
    {"DMARC_REPORT_NO_MX", Severity::warning, Scope::domain, false,
     "DMARC report domain takes no mail",
     "A domain that DMARC reports are addressed to has no MX record (or does not exist), so the "
     "reports are likely lost.",
     "Correct the rua/ruf address, or give its domain MX records."},
    {"DMARC_TEMPFAIL", Severity::warning, Scope::domain, false, "DMARC lookup failed temporarily",
     "A DNS lookup the DMARC check needs failed (SERVFAIL, REFUSED, no answer); nothing was "
     "proven either way.",
     "Run the audit again later; if it persists, check the servers of the name in the detail."},
    {"MTASTS_NONE", Severity::info, Scope::domain, false, "No MTA-STS policy",
     "The domain publishes no MTA-STS policy (RFC 8461), or one in mode none, so sending servers "
     "may deliver its mail without TLS or to an impostor when an attacker interferes.",
     "Publish _mta-sts.DOMAIN TXT \"v=STSv1; id=20250101\" and a policy at "
     "https://mta-sts.DOMAIN/.well-known/mta-sts.txt listing the MX hosts, in mode testing first."},
    {"MTASTS_INVALID", Severity::error, Scope::domain, false, "MTA-STS policy is broken",
     "The MTA-STS record or policy cannot be used: several records, a bad id, no policy host, "
     "an invalid certificate, an HTTP status other than 200, a content type other than "
     "text/plain, a policy over 64 KiB, or a bad version, mode, max_age or mx line. Senders "
     "then ignore MTA-STS.",
     "Fix what the detail names; the policy must be served with a valid certificate for "
     "mta-sts.DOMAIN, without redirects."},
    {"MTASTS_TESTING", Severity::info, Scope::domain, false, "MTA-STS in testing mode",
     "The MTA-STS policy is in mode testing: senders report TLS problems (with TLS-RPT) but "
     "still deliver.",
     "Once the TLS reports are clean, change the mode to enforce and the id in the TXT record."},
    {"MTASTS_MX_MISMATCH", Severity::error, Scope::domain, false,
     "MX host not in the MTA-STS policy",
     "An MX host of the domain matches no mx line of its MTA-STS policy; senders that enforce "
     "the policy will not deliver to it.",
     "Add the host (or a *.domain pattern covering it; the wildcard stands for one label) to the "
     "policy's mx lines, and change the id in the TXT record."},
    {"MTASTS_FETCH_FAILED", Severity::warning, Scope::domain, false,
     "MTA-STS policy could not be fetched",
     "The _mta-sts lookup, the policy host's address or the HTTPS fetch of the policy failed "
     "temporarily (timeout, refused connection, HTTP 5xx); nothing was proven either way.",
     "Run the audit again later; if it persists, check the web server of mta-sts.DOMAIN."},
    {"TLSRPT_NONE", Severity::info, Scope::domain, false, "No TLS-RPT record",
     "The domain publishes no TLS-RPT record (RFC 8460), so sending servers cannot tell it when "
     "TLS delivery to it fails.",
     "Publish _smtp._tls.DOMAIN TXT \"v=TLSRPTv1; rua=mailto:tls-reports@DOMAIN\"."},
    {"TLSRPT_INVALID", Severity::error, Scope::domain, false, "TLS-RPT record is broken",
     "The TLS-RPT record cannot be used (several records, no rua=, a destination that is not a "
     "mailto: address or an https: URL); senders then send no reports.",
     "Publish exactly one record \"v=TLSRPTv1; rua=mailto:ADDRESS\" at _smtp._tls.DOMAIN."},
    {"TLSRPT_TEMPFAIL", Severity::warning, Scope::domain, false,
     "TLS-RPT lookup failed temporarily",
     "The TXT lookup of _smtp._tls.DOMAIN failed (SERVFAIL, REFUSED, no answer); nothing was "
     "proven either way.",
     "Run the audit again later; if it persists, check the domain's authoritative servers."},
});

}  // namespace

std::span<const CodeEntry> finding_codes() {
  return kCodes;
}

const CodeEntry* find_code(std::string_view code) {
  const auto it = std::find_if(kCodes.begin(), kCodes.end(),
                               [&](const CodeEntry& entry) { return entry.code == code; });
  return it == kCodes.end() ? nullptr : &*it;
}

const CodeEntry& code_entry(Code code) {
  static_assert(kCodes.size() > kAddressCodes);
  return kCodes[static_cast<std::size_t>(code)];
}

}  // namespace rdns::audit
