// DnsName: the labels of a name kept in one buffer, shown escaped, compared
// case-insensitively, and cut into the ancestors the audit asks about.

#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <audit/dns_name.hpp>
#include <audit/ip.hpp>

using rdns::audit::DnsName;
using rdns::audit::IpAddress;

namespace {

std::vector<std::string> labels_of(const DnsName& name) {
  std::vector<std::string> labels;
  for (const std::string_view label : name.labels()) labels.emplace_back(label);
  return labels;
}

}  // namespace

TEST_CASE("a DnsName keeps its labels in order, with their bytes") {
  const DnsName name = DnsName::from_dotted("Mail.Example.COM.");
  CHECK(name.label_count() == 3);
  CHECK(labels_of(name) == std::vector<std::string>{"Mail", "Example", "COM"});
  CHECK(name.label(0) == "Mail");
  CHECK(name.label(2) == "COM");
  CHECK(name.presentation() == "Mail.Example.COM");
  CHECK(name.key() == "mail.example.com");
  CHECK(name.wire() == std::string("\x04Mail\x07"
                                   "Example\x03"
                                   "COM",
                                   17) +
                           '\0');
  CHECK(name.wire_length() == 18);
}

TEST_CASE("the root name has no labels and shows as a dot") {
  const DnsName root;
  CHECK(root.is_root());
  CHECK(root.label_count() == 0);
  CHECK(root.presentation() == ".");
  CHECK(root.wire() == std::string(1, '\0'));
  CHECK(root == DnsName::from_dotted(""));
  CHECK_FALSE(root == DnsName::from_dotted("arpa"));
  DnsName parsed = DnsName::from_dotted("stale.example");
  const unsigned char wire[] = {0};
  REQUIRE(DnsName::from_wire(wire, sizeof wire, parsed));
  CHECK(parsed.is_root());
}

TEST_CASE("DnsName equality ignores ASCII case only") {
  CHECK(DnsName::from_dotted("MAIL.example.com") == DnsName::from_dotted("mail.EXAMPLE.com"));
  CHECK_FALSE(DnsName::from_dotted("mail.example.com") == DnsName::from_dotted("mail.example"));
  CHECK_FALSE(DnsName::from_dotted("ma.il.example") == DnsName::from_dotted("mai.l.example"));
  // Bytes above ASCII are not folded (RFC 4343): \xC4 and \xE4 differ.
  CHECK_FALSE(DnsName({"\xC4", "example"}) == DnsName({"\xE4", "example"}));
  // A dot inside a label is not a label boundary.
  CHECK_FALSE(DnsName({"a.b", "example"}) == DnsName::from_dotted("a.b.example"));
}

TEST_CASE("DnsName presentation escapes what a label may hold") {
  const DnsName hostile({"a.b", "tab\there", "<img src=x>", "back\\slash", "\xff"});
  CHECK(hostile.label(0) == "a.b");
  CHECK(hostile.presentation() == "a\\.b.tab\\009here.<img\\032src=x>.back\\\\slash.\\255");
  CHECK(hostile.key() == hostile.presentation());
}

TEST_CASE("a DnsName keeps labels of any length that text gave it") {
  // Not DNS labels (at most 63 bytes), but host_name_problem() must see
  // them whole to say what is wrong with a name someone typed.
  const std::string long_label(300, 'x');
  const DnsName name = DnsName::from_dotted(long_label + ".example");
  CHECK(name.label_count() == 2);
  CHECK(name.label(0) == long_label);
  CHECK(name.label(1) == "example");
  CHECK(name.wire_length() == 1 + 301 + 8);
  CHECK(name == DnsName({long_label, "EXAMPLE"}));
  CHECK_FALSE(name == DnsName({std::string(299, 'x'), "example"}));
}

TEST_CASE("DnsName::parent drops labels from the left") {
  const DnsName name = DnsName::from_dotted("4.3.2.1.in-addr.arpa");
  CHECK(name.parent() == DnsName::from_dotted("3.2.1.in-addr.arpa"));
  CHECK(name.parent(4).presentation() == "in-addr.arpa");
  CHECK(name.parent(4).label_count() == 2);
  CHECK(name.parent(6).is_root());
  CHECK(name.parent(9).is_root());
  CHECK(name.parent(0) == name);
}

TEST_CASE("DnsName::assign_reverse gives the reverse name of an address") {
  const std::string zeros = "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.";
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"192.0.2.1", "1.2.0.192.in-addr.arpa"},
      {"0.0.0.0", "0.0.0.0.in-addr.arpa"},
      {"255.255.255.255", "255.255.255.255.in-addr.arpa"},
      {"100.64.10.200", "200.10.64.100.in-addr.arpa"},
      {"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
      {"::", zeros + "ip6.arpa"},
      {"fe80::abcd:ef01:2345:6789",
       "9.8.7.6.5.4.3.2.1.0.f.e.d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa"}};
  for (const auto& [text, name] : expected) {
    INFO(text);
    const IpAddress ip = *IpAddress::parse(text);
    DnsName reverse = DnsName::from_dotted("a.much.longer.name.that.was.here.before.example");
    DnsName::assign_reverse(ip, reverse);
    CHECK(reverse == DnsName::from_dotted(name));
    CHECK(reverse.presentation() == name);
    CHECK(ip.reverse_name() == name);
  }
}

TEST_CASE("DnsName::from_wire refuses a name without its root label") {
  DnsName name;
  const unsigned char cut_short[] = {3, 'c', 'o', 'm'};
  CHECK_FALSE(DnsName::from_wire(cut_short, sizeof cut_short, name));
  const unsigned char trailing[] = {3, 'c', 'o', 'm', 0, 0};
  CHECK_FALSE(DnsName::from_wire(trailing, sizeof trailing, name));
  const unsigned char good[] = {4, 'M', 'a', 'i', 'l', 3, 'c', 'o', 'm', 0};
  REQUIRE(DnsName::from_wire(good, sizeof good, name));
  CHECK(name.presentation() == "Mail.com");
  CHECK(name.wire() == std::string(reinterpret_cast<const char*>(good), sizeof good));
}

TEST_CASE("DnsName::key_into replaces what the buffer held") {
  std::string buffer = "a much longer key that was written here by an earlier name";
  DnsName::from_dotted("Mail.Example.COM").key_into(buffer);
  CHECK(buffer == "mail.example.com");
  DnsName().key_into(buffer);
  CHECK(buffer == ".");
  std::string shown = "PTR ";
  DnsName({"a.b", "Example"}).append_presentation(shown);
  CHECK(shown == "PTR a\\.b.Example");
}
