#pragma once
// Helpers shared by the report formats; not part of the public interface.

#include <string>
#include <string_view>

#include <db/database.hpp>

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

}  // namespace rdns::reports::detail
