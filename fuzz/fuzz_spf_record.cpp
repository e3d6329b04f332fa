// SPF records as a domain publishes them (attacker-controlled TXT data):
// every byte sequence parses into terms whose parts are consistent, and a
// term that names a domain names one that can be queried.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <audit/spf_record.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rdns::audit;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)spf::is_spf_record(text);
  for (const spf::Term& term : spf::parse_terms(text)) {
    if (term.text.find(' ') != std::string::npos) __builtin_trap();  // terms split on spaces
    if (std::string_view("+-~?").find(term.qualifier) == std::string_view::npos) __builtin_trap();
    if (term.malformed == term.problem.empty()) __builtin_trap();  // a reason for every error
    const bool ip4 = term.mechanism == spf::Mechanism::ip4;
    const bool ip6 = term.mechanism == spf::Mechanism::ip6;
    if ((ip4 || ip6) && !term.has_macro && !term.malformed) {
      if (!term.address) __builtin_trap();
      const Family family = ip4 ? Family::ipv4 : Family::ipv6;
      if (term.address->family() != family) __builtin_trap();
      if (term.prefix < 0 || term.prefix > (ip4 ? 32 : 128)) __builtin_trap();
    }
    if ((term.mechanism == spf::Mechanism::a || term.mechanism == spf::Mechanism::mx) &&
        !term.has_macro && !term.malformed) {
      if (term.v4_prefix < 0 || term.v4_prefix > 32) __builtin_trap();
      if (term.v6_prefix < 0 || term.v6_prefix > 128) __builtin_trap();
      if (!term.target.empty() && !spf::domain_name(term.target)) __builtin_trap();
    }
  }
  (void)spf::domain_name(text);
  return 0;
}
