// CpuSet: the "0-3,8" list syntax and set operations, on hand-made cases.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "tests/common/cpuset_printer.hpp"
#include "common/cpuset.hpp"

namespace vpt {
namespace {

using Cpus = std::vector<unsigned>;

TEST(CpuSetParse, ReadsRangesAndSingles) {
  EXPECT_EQ(CpuSet::parse("0-3,8,10-11").to_vector(), (Cpus{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(CpuSet::parse("5").to_vector(), (Cpus{5}));
  EXPECT_EQ(CpuSet::parse("7-7").to_vector(), (Cpus{7}));
}

TEST(CpuSetParse, EmptyTextIsTheEmptySet) {
  EXPECT_TRUE(CpuSet::parse("").empty());
  EXPECT_TRUE(CpuSet::parse("  \n").empty());
}

TEST(CpuSetParse, AllowsSpacesAroundItemsAndTrailingNewline) {
  EXPECT_EQ(CpuSet::parse(" 1 , 3 - 5 \n").to_vector(), (Cpus{1, 3, 4, 5}));
}

TEST(CpuSetParse, OverlappingAndUnorderedItemsMerge) {
  EXPECT_EQ(CpuSet::parse("8,3,1-4,2").to_vector(), (Cpus{1, 2, 3, 4, 8}));
}

TEST(CpuSetParse, HandlesCpusBeyondOneWord) {
  CpuSet set = CpuSet::parse("63-65,127-128,1000");
  EXPECT_EQ(set.to_vector(), (Cpus{63, 64, 65, 127, 128, 1000}));
  EXPECT_EQ(set.size(), 6u);
  EXPECT_EQ(set.last(), 1000u);
}

TEST(CpuSetParse, RejectsMalformedItemsNamingThem) {
  // Each case: input, a piece of text the message must quote.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a", "'a'"},          {"1-", "''"},          {"-1", "''"},        {"3-1", "'3-1'"},
      {"1,,2", "empty item"}, {"1,", "empty item"}, {"1-2-3", "'2-3'"},  {"0x3", "'0x3'"},
      {"+1", "'+1'"},        {"1 2", "'1 2'"},      {"1048576", "1048576"},
  };
  for (const auto& [text, quoted] : cases) {
    SCOPED_TRACE(text);
    try {
      CpuSet::parse(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(quoted), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("'" + text + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(CpuSetPrint, CompressesRunsIntoRanges) {
  EXPECT_EQ((CpuSet{0, 1, 2, 3, 8, 10, 11}).to_string(), "0-3,8,10-11");
  EXPECT_EQ((CpuSet{4}).to_string(), "4");
  EXPECT_EQ((CpuSet{1, 3, 5}).to_string(), "1,3,5");
  EXPECT_EQ((CpuSet{63, 64}).to_string(), "63-64");
  EXPECT_EQ(CpuSet{}.to_string(), "");
}

TEST(CpuSetPrint, RoundTripsThroughParse) {
  for (const char* text : {"0", "0-3,8,10-11", "1,3,5-7,64-127,200"})
    EXPECT_EQ(CpuSet::parse(text).to_string(), text);
}

TEST(CpuSetPrint, FormatsWithFmt) { EXPECT_EQ(fmt::format("[{}]", CpuSet{0, 1, 2, 5}), "[0-2,5]"); }

TEST(CpuSetOps, UnionIntersectionDifference) {
  CpuSet a = CpuSet::parse("0-7"), b = CpuSet::parse("4-11,70");
  EXPECT_EQ((a | b).to_string(), "0-11,70");
  EXPECT_EQ((a & b).to_string(), "4-7");
  EXPECT_EQ((a - b).to_string(), "0-3");
  EXPECT_EQ((b - a).to_string(), "8-11,70");
}

TEST(CpuSetOps, IntersectionWithAShorterSetDropsHighWords) {
  CpuSet high = CpuSet::parse("1,100");
  EXPECT_EQ((high & CpuSet{1}), (CpuSet{1}));
  EXPECT_EQ((high & CpuSet{1}).last(), 1u);
}

TEST(CpuSetOps, EqualityIgnoresHowTheSetWasBuilt) {
  CpuSet grown = CpuSet::parse("1,200");
  grown.erase(200);
  EXPECT_EQ(grown, (CpuSet{1}));
  EXPECT_EQ(CpuSet::parse("0-127") - CpuSet::range(64, 127), CpuSet::range(0, 63));
  CpuSet emptied{300};
  emptied.erase(300);
  EXPECT_EQ(emptied, CpuSet{});
  EXPECT_TRUE(emptied.empty());
}

TEST(CpuSetOps, ContainsAndIntersects) {
  CpuSet a = CpuSet::parse("0-3,8");
  EXPECT_TRUE(a.contains(8u));
  EXPECT_FALSE(a.contains(4u));
  EXPECT_FALSE(a.contains(5000u));
  EXPECT_TRUE(a.contains(CpuSet{1, 8}));
  EXPECT_FALSE(a.contains(CpuSet{1, 9}));
  EXPECT_TRUE(a.contains(CpuSet{}));
  EXPECT_TRUE(a.intersects(CpuSet{3, 100}));
  EXPECT_FALSE(a.intersects(CpuSet{4, 100}));
  EXPECT_FALSE(a.intersects(CpuSet{}));
}

TEST(CpuSetOps, InsertEraseSizeFirstLast) {
  CpuSet set;
  set.insert(9);
  set.insert(2);
  set.insert(2);
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.first(), 2u);
  EXPECT_EQ(set.last(), 9u);
  set.erase(9);
  set.erase(77);  // not a member: no effect
  EXPECT_EQ(set.to_vector(), (Cpus{2}));
  EXPECT_EQ(CpuSet::range(3, 6).to_vector(), (Cpus{3, 4, 5, 6}));
}

TEST(CpuSetOps, FirstAndLastOfEmptySetThrow) {
  EXPECT_THROW(CpuSet{}.first(), std::logic_error);
  EXPECT_THROW(CpuSet{}.last(), std::logic_error);
}

TEST(CpuSetOps, IteratesInIncreasingOrder) {
  Cpus seen;
  for (unsigned cpu : CpuSet{130, 5, 64, 0}) seen.push_back(cpu);
  EXPECT_EQ(seen, (Cpus{0, 5, 64, 130}));
}

TEST(CpuSetOps, OrdersByFirstCpuThenLexicographically) {
  EXPECT_LT((CpuSet{0, 5}), (CpuSet{1}));
  EXPECT_LT((CpuSet{0}), (CpuSet{0, 1}));
  EXPECT_LT((CpuSet{0, 1}), (CpuSet{0, 2}));
  EXPECT_FALSE((CpuSet{2}) < (CpuSet{2}));
  EXPECT_LT(CpuSet{}, (CpuSet{0}));
}

}  // namespace
}  // namespace vpt
