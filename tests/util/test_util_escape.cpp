#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include <util/csv.hpp>
#include <util/escape.hpp>
#include <util/json_writer.hpp>

using namespace std::string_literals;

TEST_CASE("escape_label keeps host names and escapes everything else") {
  CHECK(rdns::escape_label("mail-1") == "mail-1");
  CHECK(rdns::escape_label("a.b") == "a\\.b");
  CHECK(rdns::escape_label("a b") == "a\\032b");
  CHECK(rdns::escape_label("\x1b[31m") == "\\027[31m");
  CHECK(rdns::escape_label("caf\xc3\xa9") == "caf\\195\\169");
  CHECK(rdns::escape_label("\0x"s) == "\\000x");
  CHECK(rdns::escape_label("<img>") == "<img>");
  CHECK(rdns::escape_label("a\\b\"") == "a\\\\b\\\"");
}

TEST_CASE("escape_text neutralises terminal control sequences") {
  CHECK(rdns::escape_text("plain text, ok") == "plain text, ok");
  CHECK(rdns::escape_text("\x1b]0;title\x07") == "\\027]0;title\\007");
  CHECK(rdns::escape_text("line\nbreak\r") == "line\\010break\\013");
  CHECK(rdns::escape_text("back\\slash") == "back\\\\slash");
  CHECK(rdns::escape_text("\x7f\xff") == "\\127\\255");
}

TEST_CASE("csv_cell neutralises formulas and quotes per RFC 4180") {
  CHECK(rdns::csv_cell("mail.example.com") == "mail.example.com");
  CHECK(rdns::csv_cell("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"");
  CHECK(rdns::csv_cell("+1") == "'+1");
  CHECK(rdns::csv_cell("-1") == "'-1");
  CHECK(rdns::csv_cell("@SUM(A1)") == "'@SUM(A1)");
  CHECK(rdns::csv_cell("\tx") == "'\tx");
  CHECK(rdns::csv_cell("\rx") == "\"'\rx\"");
  CHECK(rdns::csv_cell("a,b") == "\"a,b\"");
  CHECK(rdns::csv_cell("") == "");
  CHECK(rdns::csv_row({"a", "b,c", ""}) == "a,\"b,c\",\r\n");
}

TEST_CASE("JsonWriter escapes per RFC 8259 and refuses invalid UTF-8") {
  rdns::JsonWriter out("a test value", "here");
  out.raw("{").key("name").string("a\"b\\c\x01").raw(",").key("list").strings({"x", "caf\xc3\xa9"});
  CHECK(out.raw("}").take() ==
        "{\"name\":\"a\\\"b\\\\c\\u0001\",\"list\":[\"x\",\"caf\xc3\xa9\"]}");
  rdns::JsonWriter bad("a test value", "here");
  CHECK_THROWS_WITH(bad.string("\xff"), Catch::StartsWith("cannot write a test value of here"));
}

TEST_CASE("JsonWriter appends to a buffer handed to it, which keeps its capacity") {
  std::string buffer = "earlier,";
  buffer.reserve(4096);
  rdns::JsonWriter out("a test value", "here", std::move(buffer));
  out.reserve(10).strings({"a", "b\n"});
  buffer = out.take();
  CHECK(buffer == "earlier,[\"a\",\"b\\u000a\"]");
  CHECK(buffer.capacity() >= 4096);
  buffer.clear();
  rdns::JsonWriter again("a test value", "here", std::move(buffer));
  CHECK(again.strings({}).take() == "[]");
}

TEST_CASE("JsonWriter keeps the plain text around each escape and restarts on non-ASCII text") {
  rdns::JsonWriter out("a test value", "here");
  out.string("mail.example.").raw(",").string("\"quoted\" and\ttabbed\\").raw(",").string("");
  // A non-ASCII byte after an escape: the escaped prefix must not be kept twice.
  out.raw(",").string("a\"b caf\xc3\xa9");
  CHECK(out.take() ==
        "\"mail.example.\",\"\\\"quoted\\\" and\\u0009tabbed\\\\\",\"\","
        "\"a\\\"b caf\xc3\xa9\"");
}
