#include "common/json_document.hpp"

#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace vpt {

using nlohmann::json;

nlohmann::json parse_json_document(std::string_view text) {
  std::vector<std::set<std::string>> keys;  // of each object being read, innermost last
  auto check = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.back().insert(parsed.get<std::string>()).second)
          throw JsonDocumentError(fmt::format("key \"{}\" appears twice in one object", parsed.get<std::string>()));
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text, check);
  } catch (const json::parse_error& e) {
    throw JsonDocumentError(fmt::format("not JSON (syntax error at byte {})", e.byte));
  } catch (const json::out_of_range&) {
    throw JsonDocumentError("a number is beyond the range of a double");
  } catch (const json::exception& e) {
    throw JsonDocumentError(fmt::format("not JSON ({})", e.what()));
  }
}

}  // namespace vpt
