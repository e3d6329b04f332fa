#pragma once
/// Escaping for data that came from the network. DNS names can carry any
/// byte, so nothing from DNS is shown raw: every output goes through these.

#include <string>
#include <string_view>

namespace rdns {

/// One DNS label in RFC 1035 presentation form: letters, digits and other
/// printable ASCII kept; '.', '\\', '"', ';', '(', ')' and ' ' escaped with a
/// backslash or as \DDD; every control or non-ASCII byte as \DDD.
std::string escape_label(std::string_view raw);
/// escape_label() appended to `out`: a name is escaped into one string.
void append_escaped_label(std::string& out, std::string_view raw);

/// Arbitrary text made safe for a terminal or a log line: control bytes,
/// DEL and non-ASCII bytes become \DDD and a backslash is doubled.
std::string escape_text(std::string_view raw);

}  // namespace rdns
