// The writers: text grouped by severity, JSON (vpt-tune/check/1) and its reader.
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "check/findings_writers.hpp"
#include "tests/check/check_test_util.hpp"

namespace vpt {
namespace {

using test::review;
using test::sample;

CheckReport win10_review() {
  static const Topology host = test::i7();
  return review(sample("win10-untuned.xml"), &host).report;
}

TEST(FindingsText, GroupsBySeverityErrorsFirst) {
  std::ostringstream out;
  write_findings_text(out, win10_review());
  const std::string text = out.str();
  auto errors = text.find("== Errors =="), warnings = text.find("== Warnings =="), notes = text.find("== Notes ==");
  ASSERT_NE(errors, std::string::npos);
  ASSERT_NE(warnings, std::string::npos);
  ASSERT_NE(notes, std::string::npos);
  EXPECT_LT(errors, warnings);
  EXPECT_LT(warnings, notes);
  // win10 has one error (8 sockets for Windows) and it sits under Errors.
  auto sockets = text.find("[error] windows-sockets");
  EXPECT_GT(sockets, errors);
  EXPECT_LT(sockets, warnings);
  EXPECT_NE(text.find("Review of domain 'win10' (8 vCPUs, 8 GiB, Windows guest, KVM, 2 PCI devices passed through)"),
            std::string::npos)
      << text;
}

TEST(FindingsText, ShowsTheSamePlanSnippetOnce) {
  std::ostringstream out;
  write_findings_text(out, win10_review());
  const std::string text = out.str();
  // vcpu-unpinned, cpu-topology-missing and windows-sockets share the plan's XML.
  EXPECT_EQ(text.find("<vcpupin vcpu='0' cpuset='0'/>"), text.rfind("<vcpupin vcpu='0' cpuset='0'/>"));
  EXPECT_NE(text.find("the same as for windows-sockets above"), std::string::npos);
}

TEST(FindingsJson, HasTheSchemaAndEveryFieldTheIssueNames) {
  nlohmann::json j = findings_to_json(win10_review());
  EXPECT_EQ(j["schema"], "vpt-tune/check/1");
  ASSERT_TRUE(j["findings"].is_array());
  ASSERT_FALSE(j["findings"].empty());
  for (const auto& f : j["findings"]) {
    for (const char* key : {"id", "severity", "title", "why", "evidence", "fix"}) EXPECT_TRUE(f.contains(key)) << key;
    EXPECT_TRUE(f["severity"] == "error" || f["severity"] == "warning" || f["severity"] == "info");
    EXPECT_TRUE(f["fix"].is_null() || f["fix"].is_string());
  }
  EXPECT_EQ(j["counts"]["error"], 1);
}

TEST(FindingsJson, ReadsBackWhatItWrote) {
  const CheckReport written = win10_review();
  CheckReport read = findings_from_json(nlohmann::json::parse(findings_to_json(written).dump()), "x.json");
  EXPECT_EQ(read.domain, written.domain);
  EXPECT_EQ(read.summary, written.summary);
  ASSERT_EQ(read.findings.size(), written.findings.size());
  for (std::size_t i = 0; i < read.findings.size(); ++i) {
    EXPECT_EQ(read.findings[i].id, written.findings[i].id);
    EXPECT_EQ(read.findings[i].severity, written.findings[i].severity);
    EXPECT_EQ(read.findings[i].evidence, written.findings[i].evidence);
    EXPECT_EQ(read.findings[i].fix, written.findings[i].fix);
    EXPECT_EQ(read.findings[i].fix_kind, written.findings[i].fix_kind);
  }
  EXPECT_EQ(read.skipped, written.skipped);
}

void expect_bad(const nlohmann::json& j, const std::string& message) {
  try {
    findings_from_json(j, "f.json");
    FAIL() << "expected FindingsInputError";
  } catch (const FindingsInputError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(FindingsJson, NamesTheBadField) {
  nlohmann::json good = findings_to_json(win10_review());
  nlohmann::json j = good;
  j["schema"] = "vpt-tune/bench/1";
  expect_bad(j, "cannot read findings 'f.json': schema: 'vpt-tune/bench/1' is not vpt-tune/check/1 (the output of "
                "`vpt-tune check --json`)");
  j = good;
  j["findings"][1]["severity"] = "fatal";
  expect_bad(j, "cannot read findings 'f.json': findings[1].severity: 'fatal' is not one of error, warning, info");
  j = good;
  j["findings"][0].erase("why");
  expect_bad(j, "cannot read findings 'f.json': findings[0].why: missing");
  j = good;
  j["findings"][2]["evidence"] = 3;
  expect_bad(j, "cannot read findings 'f.json': findings[2].evidence: expected a string, found number");
}

TEST(FindingsCount, SaysEachSeverity) {
  CheckReport r;
  EXPECT_EQ(findings_count_text(r), "no findings");
  r.findings.resize(3);
  r.findings[0].severity = Severity::Error;
  r.findings[1].severity = Severity::Info;
  r.findings[2].severity = Severity::Info;
  EXPECT_EQ(findings_count_text(r), "1 error, 0 warnings, 2 notes");
}

}  // namespace
}  // namespace vpt
