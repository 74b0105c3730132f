// Reading and writing the results file's JSON: the reader that names the path
// of every bad field, and the few conversions every kernel's section uses.
// Internal to bench/ (results.cpp and the kernel table's entries).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/results.hpp"
#include "common/json_reader.hpp"

namespace vpt {

using Json = nlohmann::json;

// ---- Writing ----

template <typename T>
Json json_or_null(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

// Rounds as an array of arrays: [[round 1 samples], [round 2 samples], ...].
Json round_samples_json(const RoundSamples& samples);

// Adds "error" only when there is one.
inline void put_error(Json& row, const std::string& error) {
  if (!error.empty()) row["error"] = error;
}

// ---- Reading: JsonReader's fields, and what only results files have ----

// Errors are JsonFieldError; results_from_json_text names the file.
class ResultsReader : public JsonReader {
 public:
  explicit ResultsReader(std::string_view schema) : schema_(schema) {}

  // The file is schema bench/1: one round, methods in one "method" object.
  bool version1() const { return schema_ == kBenchSchema1; }

  // 20 times the most any bench run records in one list (5000 wake-ups a
  // CPU): statistics on more would take minutes, not a file worth reading.
  static constexpr std::size_t kMaxNumbers = 100000;
  template <typename T>
  static std::vector<T> numbers(const Json& obj, std::string_view key, const std::string& path) {
    return JsonReader::numbers<T>(obj, key, path, kMaxNumbers);
  }
  static std::vector<unsigned> cpu_numbers(const Json& obj, std::string_view key, const std::string& path) {
    return JsonReader::cpu_numbers(obj, key, path, kMaxNumbers);
  }
  // bench/2: an array of rounds, each an array of numbers; bench/1: one flat array (one round).
  RoundSamples round_samples(const Json& obj, const std::string& key, const std::string& path) const;

 private:
  std::string schema_;
};

}  // namespace vpt
