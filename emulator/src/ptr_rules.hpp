#pragma once
// The cloud's own rules for PTR records, as the product documentation states
// them (../docs/emulator.md): which record values it accepts, which domain a
// TXT verification covers, and a record's name. Written apart from the
// client's checks in provision/, so that the emulator judges what the client
// sends instead of agreeing with it by construction.

#include <string>
#include <string_view>

namespace rdns::emulator::rules {

/// The TTL a record gets when none is given: ten minutes.
constexpr int kDefaultTtl = 600;

/// Whether value is a host name the cloud accepts as a record value: letters,
/// digits and hyphens in labels of 1-63 characters (no hyphen at either end),
/// at least two labels, at most 253 characters without the final dot, a
/// top-level label that is not all digits. Wildcards are refused separately.
bool acceptable_value(std::string_view value);

/// The root domain whose TXT record verifies value: its last two labels,
/// lower-cased ("mail.example.com." -> "example.com").
std::string root_domain(std::string_view value);

/// "d.c.b.a.in-addr.arpa" for IPv4 "a.b.c.d"; empty for anything else.
std::string reverse_name(std::string_view ipv4);

}  // namespace rdns::emulator::rules
