// Writers of a CheckReport: plain text grouped by severity, and JSON
// ("schema": "vpt-tune/check/1"), which findings_from_json reads back (for
// `vpt-tune report --findings FILE`).
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "check/findings.hpp"
#include "optimizer/optimizer.hpp"

namespace vpt {

// A findings file that cannot be read or is not vpt-tune/check/1. what() is
// one line: "cannot read findings 'FILE': findings[2].severity: expected ...".
class FindingsInputError : public RequestError {
 public:
  using RequestError::RequestError;
};

inline constexpr const char* kCheckSchema = "vpt-tune/check/1";

void write_findings_text(std::ostream& out, const CheckReport& report);

nlohmann::json findings_to_json(const CheckReport& report);

// Throws FindingsInputError naming `source` and the bad field.
CheckReport findings_from_json(const nlohmann::json& json, const std::string& source);
CheckReport load_findings_file(const std::string& path);

// "1 error, 6 warnings, 3 notes" ("no findings" when empty).
std::string findings_count_text(const CheckReport& report);

}  // namespace vpt
