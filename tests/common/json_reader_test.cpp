// The one JSON reader (common/json_reader.hpp) and the field lists built on it
// (common/json_fields.hpp): types and ranges checked, every error naming the
// path of the field, and a field list that writes and reads the same fields.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/json_fields.hpp"
#include "common/json_reader.hpp"

namespace vpt {
namespace {

using nlohmann::json;

// What the reader says about a value, or "" when it accepts it.
template <typename F>
std::string error_of(F read) {
  try {
    read();
  } catch (const JsonFieldError& e) {
    return e.what();
  }
  return "";
}

TEST(JsonReader, WholeNumbersAreNeverWrappedOrCast) {
  EXPECT_EQ(JsonReader::get<unsigned>(json(4294967295u), "n"), 4294967295u);
  EXPECT_EQ(JsonReader::get<int>(json(-5), "n"), -5);
  EXPECT_EQ(error_of([] { JsonReader::get<unsigned>(json(-1), "n"); }),
            "n: -1 is not a whole number from 0 to 4294967295");
  EXPECT_EQ(error_of([] { JsonReader::get<std::uint8_t>(json(256), "n"); }), "n: 256 is not a whole number from 0 to 255");
  EXPECT_EQ(error_of([] { JsonReader::get<int>(json(1.5), "n"); }),
            "n: 1.5 is not a whole number from -2147483648 to 2147483647");
  EXPECT_EQ(error_of([] { JsonReader::get<unsigned>(json(1e30), "n"); }),
            "n: 1e+30 is not a whole number from 0 to 4294967295");
  EXPECT_EQ(error_of([] { JsonReader::get<unsigned>(json("3"), "n"); }), "n: expected a number, found string");
  EXPECT_EQ(error_of([] { JsonReader::get<std::string>(json(3), "s"); }), "s: expected a string, found number");
  EXPECT_EQ(error_of([] { JsonReader::get<bool>(json(1), "b"); }), "b: expected true or false, found number");
}

TEST(JsonReader, CpuNumbersStayBelowTheOneLimit) {
  EXPECT_EQ(JsonReader::cpu_number(json(kCpuNumberLimit - 1), "c"), kCpuNumberLimit - 1);
  EXPECT_EQ(error_of([] { JsonReader::cpu_number(json(1u << 20), "c"); }),
            "c: 1048576 is not a CPU number (a whole number below 1048576)");
  EXPECT_EQ(error_of([] { JsonReader::cpu_number(json(-1), "c"); }),
            "c: -1 is not a CPU number (a whole number below 1048576)");
  EXPECT_EQ(JsonReader::cpu_number_set(json::array({3, 1, 3}), "s"), (CpuSet{1, 3}));
  EXPECT_EQ(JsonReader::cpu_numbers(json{{"v", {5, 1}}}, "v", "", 2), (std::vector<unsigned>{5, 1}));
  EXPECT_EQ(error_of([] { JsonReader::cpu_numbers(json{{"v", {5, 1, 2}}}, "v", "g", 2); }),
            "g.v: 3 numbers, more than the 2 this list may hold");
  EXPECT_EQ(JsonReader::cpus(json{{"cpus", "0-2,8"}}, "cpus", "x"), (CpuSet{0, 1, 2, 8}));
  EXPECT_EQ(error_of([] { JsonReader::cpus(json{{"cpus", "3-1"}}, "cpus", "x"); }).rfind("x.cpus: ", 0), 0u);
}

TEST(JsonReader, ErrorsNameThePathOfTheBadField) {
  const json doc = json::parse(R"({"nodes": [{"cpus": "0-3"}, {"memory": 5}], "list": [1, "two"]})");
  const json& nodes = JsonReader::array(doc, "nodes", "");
  EXPECT_EQ(error_of([&] { JsonReader::cpus(nodes[1], "cpus", JsonReader::index("nodes", 1)); }), "nodes[1].cpus: missing");
  EXPECT_EQ(error_of([&] { JsonReader::field<std::vector<int>>(doc, "list", "top"); }),
            "top.list[1]: expected a number, found string");
  EXPECT_EQ(error_of([&] { JsonReader::array(nodes[0], "cpus", "nodes[0]"); }),
            "nodes[0].cpus: expected an array, found string");
  EXPECT_EQ(error_of([&] { JsonReader::at(json(3), "x", "p"); }), "p: expected an object, found number");
  EXPECT_EQ(error_of([] { JsonReader::fail("", "not a JSON object"); }), "not a JSON object");
  // Absent and null are both "not given" for optional fields.
  EXPECT_FALSE(JsonReader::optional<int>(json{{"a", nullptr}}, "a", "").has_value());
  EXPECT_FALSE(JsonReader::optional<int>(json::object(), "a", "").has_value());
  EXPECT_EQ(JsonReader::text_or_empty(json::object(), "a", ""), "");
  // field_or: absent takes the fallback; present must be the type, null included.
  EXPECT_TRUE(JsonReader::field_or(json::object(), "f", "", true));
  EXPECT_FALSE(JsonReader::field_or(json{{"f", false}}, "f", "", true));
  EXPECT_EQ(error_of([] { JsonReader::field_or(json{{"f", nullptr}}, "f", "p", true); }),
            "p.f: expected true or false, found null");
}

TEST(JsonReader, AListOfNumbersIsBounded) {
  json doc = {{"xs", json::array({1, 2, 3, 4})}};
  EXPECT_EQ(JsonReader::numbers<int>(doc, "xs", "", 4), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(error_of([&] { JsonReader::numbers<int>(doc, "xs", "", 3); }),
            "xs: 4 numbers, more than the 3 this list may hold");
}

enum class Colour { Red, Green };
std::string_view colour_name(Colour c) { return c == Colour::Red ? "red" : "green"; }
constexpr Colour kColours[] = {Colour::Red, Colour::Green};

TEST(JsonReader, AChoiceNamesTheValuesItTakes) {
  EXPECT_EQ(JsonReader::choice(json("green"), "c", kColours, colour_name), Colour::Green);
  EXPECT_EQ(error_of([] { JsonReader::choice(json("blue"), "c", kColours, colour_name); }),
            "c: 'blue' is not one of red, green");
  // Text from the file is never printed raw.
  EXPECT_EQ(error_of([] { JsonReader::choice(json("\x1b[2J"), "c", kColours, colour_name); }),
            "c: '?[2J' is not one of red, green");
}

struct Part {
  unsigned id = 0;
  std::string name;
  CpuSet cpus;
  std::optional<std::uint64_t> bytes;
  Colour colour = Colour::Red;
  std::string model;            // "" = unknown, written as null
  unsigned rank = 0;            // derived: written, never read
  std::vector<std::string> tags;
  bool flag = false;            // added later: old files lack it
};
struct Whole {
  std::vector<Part> parts;
};

const JsonFields<Part>& part_fields() {
  static const auto fields = JsonFields<Part>()
                                 .field("id", &Part::id)
                                 .field("name", &Part::name)
                                 .field("cpus", &Part::cpus)
                                 .field("bytes", &Part::bytes)
                                 .choice("colour", &Part::colour, kColours, colour_name)
                                 .text_or_null("model", &Part::model)
                                 .derived("rank", &Part::rank)
                                 .field("tags", &Part::tags)
                                 .added_later("flag", &Part::flag);
  return fields;
}
const JsonFields<Whole>& whole_fields() {
  static const auto fields = JsonFields<Whole>().list("parts", &Whole::parts, part_fields());
  return fields;
}

TEST(JsonFields, WritesEachFieldInItsJsonForm) {
  Part p{7, "gpu", CpuSet{0, 1, 2, 5}, std::nullopt, Colour::Green, "", 3, {"a", "b"}, true};
  const json j = part_fields().write(p);
  EXPECT_EQ(j, json::parse(R"({"id": 7, "name": "gpu", "cpus": "0-2,5", "bytes": null, "colour": "green",
                              "model": null, "rank": 3, "tags": ["a", "b"], "flag": true})"));
}

TEST(JsonFields, ReadsBackWhatItWritesExceptDerivedFields) {
  Whole w;
  w.parts.push_back({1, "a", CpuSet{4}, 1024, Colour::Green, "Zen 4", 9, {}, true});
  w.parts.push_back({2, "b", CpuSet{}, std::nullopt, Colour::Red, "", 0, {"x"}, false});
  Whole back = whole_fields().read(whole_fields().write(w), "");
  ASSERT_EQ(back.parts.size(), 2u);
  EXPECT_EQ(back.parts[0].id, 1u);
  EXPECT_EQ(back.parts[0].cpus, CpuSet{4});
  EXPECT_EQ(back.parts[0].bytes, 1024u);
  EXPECT_EQ(back.parts[0].colour, Colour::Green);
  EXPECT_EQ(back.parts[0].model, "Zen 4");
  EXPECT_EQ(back.parts[0].rank, 0u) << "derived fields are the reader's to recompute";
  EXPECT_TRUE(back.parts[0].flag);
  EXPECT_EQ(back.parts[1].tags, std::vector<std::string>{"x"});
  EXPECT_FALSE(back.parts[1].bytes.has_value());
}

TEST(JsonFields, RequiredFieldsMustBeThereAndLaterOnesMayBeAbsent) {
  json j = part_fields().write(Part{});
  j.erase("flag");
  j.erase("model");
  j.erase("bytes");
  EXPECT_NO_THROW(part_fields().read(j, "p"));
  json missing = j;
  missing.erase("name");
  EXPECT_EQ(error_of([&] { part_fields().read(missing, "parts[3]"); }), "parts[3].name: missing");
  json null_name = j;
  null_name["name"] = nullptr;
  EXPECT_EQ(error_of([&] { part_fields().read(null_name, "p"); }), "p.name: expected a string, found null");
  json null_flag = j;
  null_flag["flag"] = nullptr;  // added later: null is as good as absent
  EXPECT_FALSE(part_fields().read(null_flag, "p").flag);
  EXPECT_EQ(error_of([&] { whole_fields().read(json{{"parts", nullptr}}, ""); }), "parts: expected an array, found null");
  json bad = {{"parts", json::array({j, json(5)})}};
  EXPECT_EQ(error_of([&] { whole_fields().read(bad, ""); }), "parts[1]: expected an object, found number");
}

}  // namespace
}  // namespace vpt
