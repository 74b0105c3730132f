// Reading and writing the results file's JSON: the reader that names the path
// of every bad field, and the few conversions every kernel's section uses.
// Internal to bench/ (results.cpp and the kernel table's entries).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/results.hpp"

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

// ---- Reading, with the path of the field in every error ----

class ResultsReader {
 public:
  ResultsReader(std::string name, std::string_view schema) : name_(std::move(name)), schema_(schema) {}

  // The file is schema bench/1: one round, methods in one "method" object.
  bool version1() const { return schema_ == kBenchSchema1; }

  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    throw BenchInputError(
        fmt::format("cannot read results '{}': {}{}", name_, path.empty() ? "" : path + ": ", problem));
  }

  const Json& at(const Json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object()) fail(path, "not an object");
    auto it = obj.find(key);
    if (it == obj.end()) fail(join(path, key), "missing");
    return *it;
  }
  // nullptr when missing or null.
  const Json* find(const Json& obj, const std::string& key) const {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }

  template <typename T>
  T get(const Json& value, const std::string& path) const {
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      if (!value.is_number()) fail(path, fmt::format("expected a number, found {}", value.type_name()));
      if constexpr (std::is_integral_v<T>)
        if (!value.is_number_integer()) fail(path, fmt::format("expected a whole number, found {}", value.dump()));
      if constexpr (std::is_unsigned_v<T>)
        if (!value.is_number_unsigned()) fail(path, "expected a number >= 0");
      if constexpr (std::is_integral_v<T>) {
        // In range, or an error: nlohmann would wrap -1 into 4294967295 and
        // cast 1e30 into an unsigned with undefined behaviour.
        const bool in_range =
            value.is_number_unsigned()
                ? value.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())
                : value.get<std::int64_t>() >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                      (value.get<std::int64_t>() < 0 || static_cast<std::uint64_t>(value.get<std::int64_t>()) <=
                                                            static_cast<std::uint64_t>(std::numeric_limits<T>::max()));
        if (!in_range)
          fail(path, fmt::format("{} is out of range ({} to {})", value.dump(), std::numeric_limits<T>::min(),
                                 std::numeric_limits<T>::max()));
      }
    }
    try {
      return value.get<T>();
    } catch (const nlohmann::json::exception&) {
      fail(path, fmt::format("expected {}, found {}", expected<T>(), value.type_name()));
    }
  }
  template <typename T>
  T field(const Json& obj, const std::string& key, const std::string& path) const {
    return get<T>(at(obj, key, path), join(path, key));
  }
  template <typename T>
  std::optional<T> optional_field(const Json& obj, const std::string& key, const std::string& path) const {
    if (!obj.is_object()) fail(path, "not an object");
    const Json* v = find(obj, key);
    if (!v) return std::nullopt;
    return get<T>(*v, join(path, key));
  }
  // A CPU number, bounded as CpuSet::parse bounds them.
  unsigned cpu(const Json& obj, const std::string& key, const std::string& path) const {
    unsigned n = field<unsigned>(obj, key, path);
    if (n >= kMaxCpu) fail(join(path, key), fmt::format("CPU {} is out of range", n));
    return n;
  }
  // A list of CPU numbers, each bounded like cpu().
  std::vector<unsigned> cpu_numbers(const Json& obj, const std::string& key, const std::string& path) const {
    std::vector<unsigned> list = numbers<unsigned>(obj, key, path);
    for (std::size_t i = 0; i < list.size(); ++i)
      if (list[i] >= kMaxCpu) fail(index(join(path, key), i), fmt::format("CPU {} is out of range", list[i]));
    return list;
  }
  static constexpr unsigned kMaxCpu = 1u << 20;

  std::string string_or_empty(const Json& obj, const std::string& key, const std::string& path) const {
    return optional_field<std::string>(obj, key, path).value_or("");
  }
  CpuSet cpus(const Json& obj, const std::string& key, const std::string& path) const;
  std::optional<CpuSet> optional_cpus(const Json& obj, const std::string& key, const std::string& path) const {
    if (!find(obj, key)) return std::nullopt;
    return cpus(obj, key, path);
  }
  const Json& array(const Json& obj, const std::string& key, const std::string& path) const {
    const Json& v = at(obj, key, path);
    if (!v.is_array()) fail(join(path, key), fmt::format("expected an array, found {}", v.type_name()));
    return v;
  }
  // A list of numbers; a bad element is named by its index.
  template <typename T>
  std::vector<T> numbers(const Json& obj, const std::string& key, const std::string& path) const {
    const Json& list = array(obj, key, path);
    check_count(list.size(), join(path, key));
    std::vector<T> out;
    out.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) out.push_back(get<T>(list[i], index(join(path, key), i)));
    return out;
  }
  // 20 times the most any bench run records in one list (5000 wake-ups a
  // CPU): statistics on more would take minutes, not a file worth reading.
  static constexpr std::size_t kMaxNumbers = 100000;
  void check_count(std::size_t count, const std::string& path) const {
    if (count > kMaxNumbers)
      fail(path, fmt::format("{} numbers, more than the {} a results file holds in one list", count, kMaxNumbers));
  }
  // bench/2: an array of rounds, each an array of numbers; bench/1: one flat array (one round).
  RoundSamples round_samples(const Json& obj, const std::string& key, const std::string& path) const;

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string index(const std::string& path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

 private:
  template <typename T>
  static std::string_view expected() {
    if constexpr (std::is_same_v<T, std::string>) return "a string";
    else if constexpr (std::is_same_v<T, bool>) return "true or false";
    else if constexpr (std::is_arithmetic_v<T>) return "a number";
    else return "a list";
  }
  std::string name_;
  std::string schema_;
};

}  // namespace vpt
