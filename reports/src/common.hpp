#pragma once
// Helpers shared by the report formats; not part of the public interface.

#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <db/database.hpp>
#include <reports/report.hpp>

namespace rdns::reports::detail {

/// Stored text is escaped ASCII already; a stray control or non-ASCII byte
/// (an older or foreign writer) is escaped once more, so every format holds
/// printable ASCII and therefore valid UTF-8 whatever the database says.
std::string shown(std::string_view text);

/// Appends value to list, after separator unless list is empty. (Also keeps
/// clear of GCC 12's false -Wrestrict on `"literal" + std::string` at -O3.)
void append(std::string& list, std::string_view separator, std::string_view value);

/// IPv4 before IPv6, each numerically; unparsable text sorts last, by text.
bool address_less(const std::string& a, const std::string& b);

/// A key that sorts as address_less does when compared as text: "4" or "6"
/// and the address bytes in hex (for the HTML table's script).
std::string address_sort_key(const std::string& ip);

/// "name1 name2", the audit CSV's form of PTR names.
std::string join_ptr(const db::ResultRecord& record);

/// "name=addr addr; name=addr", the audit CSV's form of forward results.
std::string join_forward(const db::ResultRecord& record);

/// The summary of a run, one record at a time: what both summarize() and
/// the streamed HTML report count.
class SummaryBuilder {
 public:
  /// Counts record, with the domains whose MX or SPF led to it.
  void add(const db::ResultRecord& record, const std::set<std::string>& domains);
  /// The summary, without since_previous (the caller compares runs its way).
  Summary finish(const std::vector<db::DomainFindingRecord>& domain_findings);

 private:
  void add_blocklist_finding(const std::string& ip, const db::FindingRecord& finding);

  Summary summary_;
  std::map<std::string, Group> families_;
  std::map<std::string, Group> domains_;
  std::map<std::string, CodeCount> codes_;
  std::map<std::string, std::int64_t> listed_;
};

/// Now in UTC, ISO 8601 with 'Z'.
std::string utc_now();

/// Up to `count` runs of run's identity ending with `run`, oldest first;
/// the others finished ones, since a run still in progress has partial
/// counts and no settled results.
std::vector<db::RunInfo> runs_up_to(db::Database& database, const db::RunInfo& run,
                                    std::size_t count);

/// The distinct domains of record's sources.
std::set<std::string> source_domains_of(const db::ResultRecord& record);

/// An address as 17 bytes that sort as address_less: the family (4, 6, or
/// 9 for text that is no address, then all zero) and the address bytes.
using AddressKey = std::array<unsigned char, 17>;
AddressKey address_key(const std::string& ip);

/// The canonical text of a key's address (inet_ntop's form); empty for a
/// key of text that is no address.
std::string address_text(const AddressKey& key);

/// The /24 (IPv4) or /64 (IPv6) an address lies in, e.g. "192.0.2.0/24";
/// the text itself when it is no address.
std::string network_of(const AddressKey& key, const std::string& ip);

}  // namespace rdns::reports::detail
