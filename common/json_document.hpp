// Reading a JSON document a user handed in (a plan, a results file).
#pragma once

#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vpt {

// what() says what is wrong and where, for the caller to put after
// "cannot read <thing> '<name>': ".
class JsonDocumentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// nlohmann::json::parse, plus what it lets through silently: a key given
// twice in one object (nlohmann keeps the last). Every refusal is a
// JsonDocumentError, never another exception: syntax ("not JSON: ... at byte
// N"), numbers beyond a double (1e999), NaN or Infinity (not JSON).
nlohmann::json parse_json_document(std::string_view text);

}  // namespace vpt
