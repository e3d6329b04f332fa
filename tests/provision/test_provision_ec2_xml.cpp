// The strict XML reader behind the EC2 client: EC2's answer shapes parse,
// and anything malformed is refused with the byte offset, never the text.

#include <string>

#include <catch2/catch.hpp>

#include <util/error.hpp>

#include "../../provision/src/xml.hpp"

using namespace rdns::provision;

TEST_CASE("an EC2 answer parses into elements and text", "[provision][xml]") {
  const auto root = xml::parse(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeAddressesAttributeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <!-- a comment -->
  <addressSet>
    <item><publicIp>198.51.100.50</publicIp><ptrRecord>mx1.example.com.</ptrRecord>
      <ptrRecordUpdate><status>PENDING</status><reason>a &amp; b &lt;c&gt; &#65;&#x42;</reason></ptrRecordUpdate>
    </item>
    <item/>
  </addressSet>
</DescribeAddressesAttributeResponse>)",
      "test");
  CHECK(root.name == "DescribeAddressesAttributeResponse");
  CHECK(root.child_text("requestId") == "r-1");
  const auto items = root.child("addressSet")->all("item");
  REQUIRE(items.size() == 2);
  CHECK(items[0]->child_text("ptrRecord") == "mx1.example.com.");
  CHECK(items[0]->child("ptrRecordUpdate")->child_text("reason") == "a & b <c> AB");
  CHECK(items[1]->children.empty());
  CHECK(root.child("missing") == nullptr);
}

TEST_CASE("malformed XML is refused with its offset and without its text", "[provision][xml]") {
  for (const std::string bad :
       {"<a><b></a>", "<a>", "<a>&secret;</a>", "<!DOCTYPE a><a/>", "<a/><b/>", "text", "<a x=1/>",
        "<a><![CDATA[x]]></a>", "<a>&#0;</a>"}) {
    INFO(bad);
    try {
      xml::parse(bad, "answer");
      FAIL("accepted");
    } catch (const rdns::Error& error) {
      const std::string message = error.what();
      CHECK(message.find("answer: malformed XML at byte") == 0);
      CHECK(message.find("secret") == std::string::npos);
    }
  }
  // Nesting is bounded, so a hostile peer cannot exhaust the stack.
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  CHECK_THROWS_AS(xml::parse(deep, "answer"), rdns::Error);
}
