#pragma once
/// Appends JSON text directly, without building a JSON tree: for records
/// written once per audited IP (JSONL output, database columns), where a
/// tree's allocations were most of the cost. Strings are escaped per RFC
/// 8259; non-ASCII text must be valid UTF-8.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rdns {

/// Builds one JSON value; the caller writes punctuation with raw().
class JsonWriter {
 public:
  /// `what` and `subject` name the value in errors ("the findings", "192.0.2.1").
  JsonWriter(std::string_view what, std::string_view subject) : what_(what), subject_(subject) {}
  /// Appends to `buffer`: a caller writing one value after another hands
  /// back the string take() returned and keeps its capacity.
  JsonWriter(std::string_view what, std::string_view subject, std::string&& buffer)
      : what_(what), subject_(subject), out_(std::move(buffer)) {}

  /// Room for `bytes` more: one allocation instead of the string doubling
  /// its way up while a value is written.
  JsonWriter& reserve(std::size_t bytes) {
    out_.reserve(out_.size() + bytes);
    return *this;
  }

  /// A JSON string; throws rdns::Error(Errc::internal) for invalid UTF-8.
  JsonWriter& string(std::string_view text);
  JsonWriter& raw(std::string_view text) {
    out_ += text;
    return *this;
  }
  /// `"name":`
  JsonWriter& key(std::string_view name) { return string(name).raw(":"); }
  /// An array of strings.
  JsonWriter& strings(const std::vector<std::string>& values);
  std::string take() { return std::move(out_); }

 private:
  JsonWriter& non_ascii_string(std::string_view text);

  std::string_view what_;
  std::string_view subject_;
  std::string out_;
};

}  // namespace rdns
