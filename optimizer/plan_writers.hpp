// Writers and reader for a Plan: the explanation for people and the JSON
// document ("schema": "vpt-tune/plan/1", documented in the README).
#pragma once

#include <ostream>
#include <stdexcept>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "optimizer/host_plan.hpp"
#include "optimizer/plan.hpp"

namespace vpt {

inline constexpr const char* kPlanSchema = "vpt-tune/plan/1";
inline constexpr const char* kHostPlanSchema = "vpt-tune/host-plan/1";

nlohmann::json plan_to_json(const Plan& plan);
// A whole-host plan: each guest's role and pins, the shared pool, and the
// dedicated guests' plan as plan_to_json writes it.
nlohmann::json host_plan_to_json(const HostPlan& plan);
// A plan file that cannot be read: "cannot read plan '<name>': <field>: <problem>".
class PlanInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The inverse of plan_to_json; throws PlanInputError naming the first missing
// or malformed field.
Plan plan_from_json(const nlohmann::json& doc, const std::string& name);
// A plan file (`vpt-tune suggest --json > FILE`; "-" reads standard input);
// PlanInputError names the file and what is wrong with it.
Plan load_plan_file(const std::string& path);

// Explanation, score, warnings and advice (the XML snippet is written by
// virt/, which owns libvirt XML). The score is one line (the total, the terms
// most of it comes from, whether a lower one exists), or with `score_terms`
// (suggest --explain) every term of the objective on a line of its own.
void write_plan_text(std::ostream& out, const Plan& plan, bool score_terms = false);
// That one line: "Score 2.8 (lower is better): all of it from ...".
std::string score_summary(const Plan& plan);

}  // namespace vpt
