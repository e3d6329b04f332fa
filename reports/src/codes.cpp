#include <algorithm>
#include <array>

#include <reports/codes.hpp>

namespace rdns::reports {
namespace {

// Plain words on purpose: the reader is a postmaster or a compliance
// officer, and the fix names who has to act (the owner of the reverse zone,
// usually the ISP or cloud provider, or the owner of the forward zone).
constexpr std::array<CodeInfo, 16> kCodes = {{
    {"NO_PTR", "error", "No reverse DNS",
     "The address has no PTR record. Gmail, Microsoft, Yahoo and most spam filters reject or junk "
     "mail from such an address.",
     "Ask whoever controls the reverse zone (your ISP or cloud provider; for your own block, your "
     "DNS team) to publish a PTR naming the mail server, e.g. mail.example.com, and give that name "
     "an A/AAAA record pointing back to this address."},
    {"PTR_NO_FORWARD", "error", "PTR name does not resolve",
     "The PTR names a host that has no address of this IP's family, so reverse DNS cannot be "
     "forward-confirmed (FCrDNS fails).",
     "Add an A (IPv4) or AAAA (IPv6) record for the PTR name pointing to this address, or change "
     "the PTR to a name that has one."},
    {"FORWARD_MISMATCH", "error", "PTR name points elsewhere",
     "The PTR name resolves, but not to this address, so receivers treat the reverse DNS as "
     "unconfirmed.",
     "Add this address to the PTR name's A/AAAA records, or set the PTR to the host name that "
     "really resolves to this address."},
    {"FAMILY_MISMATCH", "error", "PTR name has only the other address family",
     "The PTR name resolves only to IPv6 for an IPv4 sender (or only to IPv4 for an IPv6 sender); "
     "receivers compare within the family and fail the check.",
     "Add the missing A (for IPv4) or AAAA (for IPv6) record for the PTR name."},
    {"INVALID_PTR_NAME", "error", "PTR is not a valid host name",
     "The PTR value is not a usable host name (bad characters, a single label, an IP literal, a "
     "numeric top-level label). Receivers ignore or distrust it; its forward records were not "
     "looked up.",
     "Replace the PTR with a fully qualified host name of letters, digits and hyphens, such as "
     "mail.example.com, that resolves back to this address."},
    {"LAME_REVERSE", "error", "Reverse zone does not answer",
     "The servers delegated for the reverse zone do not answer although its parent does, so every "
     "receiver's lookup fails or times out.",
     "Ask the owner of the reverse zone (or the parent's operator) to fix the delegation: the NS "
     "records must point at servers that serve the zone."},
    {"MULTIPLE_PTR", "warning", "Several PTR values",
     "The address has more than one PTR. Receivers such as Postfix use one at random, so checks "
     "pass or fail unpredictably.",
     "Keep exactly one PTR, the mail server's canonical name, and remove the others."},
    {"GENERIC_PTR", "warning", "Generic or dynamic-looking name",
     "The name embeds the address or a dynamic-pool word (dhcp, dyn, pool...), which spam filters "
     "score as a home or dynamic connection.",
     "Set a specific PTR for the mail server, e.g. mail.example.com, with a matching A/AAAA "
     "record."},
    {"PROVIDER_DEFAULT_PTR", "warning", "Cloud provider's default name",
     "The PTR is the name the provider assigns when nobody configured one; receivers read it as an "
     "unmanaged host.",
     "Set a custom reverse DNS name in the provider's console or API (most require the name's A "
     "record to exist first)."},
    {"PTR_TARGET_CNAME", "warning", "PTR points to an alias",
     "The PTR names a CNAME rather than a host (RFC 1912 section 2.4); some receivers do not "
     "follow it.",
     "Point the PTR at the canonical host name (the CNAME's target) instead."},
    {"TEMPFAIL", "warning", "Lookup failed temporarily",
     "A DNS server answered SERVFAIL or REFUSED or did not answer, so nothing was proven either "
     "way; receivers will defer mail (4xx) while this lasts.",
     "Run the audit again later; if it persists, check the authoritative servers of the zone named "
     "in the detail."},
    {"CLASSLESS_DELEGATION", "info", "Classless delegation followed",
     "The reverse name is a CNAME into an RFC 2317 child zone; it was followed and is fine.",
     "Nothing to fix; keep the CNAMEs in the parent zone in step with the child zone."},
    {"TTL_NOTE", "info", "Unusual TTL",
     "The PTR's TTL is very short or long, or far from the forward record's TTL; changes will "
     "propagate unevenly.",
     "Give the PTR a TTL in the usual range (about 10 minutes to a day), close to its A/AAAA "
     "record's TTL."},
    {"HELO_MISMATCH", "warning", "SMTP name differs from the PTR",
     "The server greets or answers EHLO with a name that is not its forward-confirmed PTR name; "
     "filters such as SpamAssassin and Proofpoint score that, though RFC 5321 forbids refusing "
     "mail for it.",
     "Set the MTA's host name (Postfix myhostname, Exim primary_hostname) to the PTR name, or "
     "change the PTR to the name the server uses."},
    {"HELO_INVALID", "warning", "SMTP name is not a host name",
     "The greeting or EHLO name is a bare address, localhost or a single label, which receivers "
     "treat as a misconfigured or compromised host.",
     "Give the MTA a fully qualified host name that matches the PTR."},
    {"SMTP_UNAVAILABLE", "info", "No SMTP greeting",
     "Nothing greeted on the SMTP port. That is normal for an address that only sends mail.",
     "Nothing to fix unless this address should receive mail; then check the firewall and the "
     "MTA."},
}};

}  // namespace

std::span<const CodeInfo> known_codes() {
  return kCodes;
}

const CodeInfo* find_code(std::string_view code) {
  const auto it =
      std::find_if(kCodes.begin(), kCodes.end(), [&](const CodeInfo& i) { return i.code == code; });
  return it == kCodes.end() ? nullptr : &*it;
}

}  // namespace rdns::reports
