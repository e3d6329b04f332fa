#pragma once
/// What DNS said about one IP: the raw material the classifier judges.
/// Built by the lookup engine, or directly by tests.

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

#include <audit/dns_name.hpp>
#include <audit/ip.hpp>

namespace rdns::audit {

/// A list that nearly always holds one or two entries keeps them inline:
/// an address's observation is built on the event loop and freed on the
/// writer thread, and each allocation handed across costs more than a copy.
/// Its move is declared noexcept, which boost's is not (moving entries that
/// move without throwing cannot throw): a std::vector of results would
/// otherwise copy every result each time it grows.
template <typename T, std::size_t N>
class InlineList : public boost::container::small_vector<T, N> {
  using Base = boost::container::small_vector<T, N>;
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>);

 public:
  using Base::Base;
  InlineList() = default;
  ~InlineList() = default;
  InlineList(const InlineList&) = default;
  InlineList& operator=(const InlineList&) = default;
  InlineList(InlineList&& other) noexcept : Base(std::move(static_cast<Base&>(other))) {}
  InlineList& operator=(InlineList&& other) noexcept {
    Base::operator=(std::move(static_cast<Base&>(other)));
    return *this;
  }
};

/// How one lookup step ended.
enum class Outcome {
  found,     ///< records of the asked type
  nxdomain,  ///< the name does not exist
  nodata,    ///< the name exists without records of the type
  tempfail,  ///< SERVFAIL, REFUSED, timeout or an unusable answer: nothing proven
  skipped,   ///< not looked up (the name cannot be queried)
};

/// The reverse (PTR) step.
struct PtrObservation {
  Outcome outcome = Outcome::tempfail;
  std::string failure;           ///< for tempfail: "SERVFAIL", "REFUSED", "timeout", ...
  std::vector<DnsName> aliases;  ///< CNAMEs traversed from the reverse name (RFC 2317)
  InlineList<DnsName, 1> names;  ///< PTR values, in answer order, duplicates removed
  /// Distinct PTR values in the answer; more than names.size() when the
  /// audit's bound (docs/jsonl.md) cut the list.
  std::size_t names_total = 0;
  std::uint32_t ttl = 0;  ///< smallest PTR TTL seen
  /// Set when the reverse zone's servers do not answer while its parent
  /// does: the name of the deepest ancestor that still answers.
  std::optional<DnsName> lame_below;
};

/// The forward step for one PTR name, in the IP's address family.
struct ForwardObservation {
  DnsName name;
  Outcome outcome = Outcome::tempfail;
  std::string failure;
  std::vector<DnsName> aliases;        ///< CNAMEs traversed from the PTR name
  InlineList<IpAddress, 2> addresses;  ///< addresses of the IP's family
  std::uint32_t ttl = 0;
  /// When no address of the family exists: whether the other family has one.
  Outcome other_family = Outcome::skipped;
};

/// The STARTTLS handshake and the certificate the server presented.
struct TlsObservation {
  std::string failure;   ///< why STARTTLS or the handshake failed; empty when it worked
  std::string protocol;  ///< "TLSv1.3", ...
  /// Why the chain does not verify against the trusted CAs (expiry aside);
  /// empty when it does.
  std::string untrusted;
  bool name_matches = false;       ///< a certificate name covers a name the audit knows
  std::vector<std::string> names;  ///< the certificate's DNS names (raw bytes)
  std::optional<int> days_left;    ///< until notAfter; negative when expired
};

/// What the SMTP server at the address said (only with --smtp).
struct SmtpObservation {
  bool greeted = false;               ///< a 220 greeting arrived
  std::string failure;                ///< why the conversation stopped early ("timeout", ...)
  std::string banner_name;            ///< the first word after "220", raw bytes
  std::string ehlo_name;              ///< the first word of the EHLO reply, raw bytes
  int ehlo_code = 0;                  ///< the EHLO reply code (250 expected)
  bool starttls_offered = false;      ///< the EHLO reply lists STARTTLS
  std::optional<TlsObservation> tls;  ///< set when STARTTLS was tried
};

/// What one blocklist said about the address (only with --dnsbl).
struct DnsblObservation {
  std::string zone;  ///< the list
  /// Set when the list failed its self-test this run: why. Nothing was
  /// asked about the address.
  std::string untrusted;
  Outcome outcome = Outcome::tempfail;  ///< found: A records; nxdomain/nodata: not listed
  std::string failure;                  ///< for tempfail
  std::vector<IpAddress> answers;       ///< the A records (return codes)
  std::string reason;                   ///< the TXT record, raw bytes
};

struct IpObservation {
  IpAddress ip;
  /// Host names this address is known to serve (an MX host), shown in
  /// findings as the PTR name to set. Presentation form.
  std::vector<std::string> expected_names;
  PtrObservation ptr;
  InlineList<ForwardObservation, 1> forward;  ///< one per PTR name, same order
  /// The forward step was left out on purpose (--ptr-only): `forward` is
  /// empty although PTR names were found.
  bool forward_skipped = false;
  std::optional<SmtpObservation> smtp;  ///< set when the SMTP check ran
  std::vector<DnsblObservation> dnsbl;  ///< one per list asked (--dnsbl)
};

}  // namespace rdns::audit
