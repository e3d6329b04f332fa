#pragma once
// A small, strict XML reader for the EC2 Query API's answers: elements, text,
// the five predefined entities and character references. Attributes are
// checked for form and dropped, as are the declaration and comments; DTDs,
// CDATA and processing instructions are refused (EC2 sends none).

#include <string>
#include <string_view>
#include <vector>

namespace rdns::provision::xml {

/// One element: its local name (any "prefix:" dropped), its text (the
/// concatenated character data directly inside it) and its child elements.
struct Element {
  std::string name;
  std::string text;
  std::vector<Element> children;

  /// The first child called name, or nullptr.
  const Element* child(std::string_view name) const;
  /// The text of the first child called name; empty when there is none.
  std::string child_text(std::string_view name) const;
  /// Every child called name, in document order.
  std::vector<const Element*> all(std::string_view name) const;
};

/// Parses a whole document into its root element. Throws
/// rdns::Error(Errc::input) naming source and the byte offset of the fault;
/// the message never quotes the document.
Element parse(std::string_view document, const std::string& source);

}  // namespace rdns::provision::xml
