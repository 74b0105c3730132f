// Reading the fields of a JSON document a user handed in (a topology, a plan,
// bench results, check findings): each value checked for its type and range,
// every refusal naming the field's path ("numa.nodes[2].cpus: ...").
//
// One error form for every file vpt-tune reads back: the reader throws
// JsonFieldError ("<path>: <problem>"), and the module that reads the document
// puts "cannot read <thing> '<name>': " before it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/cpuset.hpp"
#include "common/text.hpp"

namespace vpt {

// The first bad field of a document. what() is "<path>: <problem>", or the
// problem alone when it concerns the whole document (path "").
class JsonFieldError : public std::runtime_error {
 public:
  JsonFieldError(const std::string& path, std::string_view problem);
};

// Stateless: a class so that a format's own reader (bench's ResultsReader)
// can add its fields beside these. Arguments are (object, key, path of the
// object); the path of the document itself is "".
class JsonReader {
 public:
  using Json = nlohmann::json;

  [[noreturn]] static void fail(const std::string& path, std::string_view problem);
  static std::string join(const std::string& path, std::string_view key);  // "numa", "nodes" -> "numa.nodes"
  static std::string index(const std::string& path, std::size_t i);         // "cpus", 3 -> "cpus[3]"

  // The member (null counts as present); fails when obj is not an object or lacks it.
  static const Json& at(const Json& obj, std::string_view key, const std::string& path);
  // The member, or nullptr when it is absent or null (or obj is not an object).
  static const Json* find(const Json& obj, std::string_view key);
  static const Json& array(const Json& obj, std::string_view key, const std::string& path);

  // The value as T: a string, true/false, a number (whole and in T's range
  // for integer types: no -1 wrapped into 4294967295, no 1e30 cast), or a
  // std::vector of those.
  template <typename T>
  static T get(const Json& value, const std::string& path);
  template <typename T>
  static T field(const Json& obj, std::string_view key, const std::string& path) {
    return get<T>(at(obj, key, path), join(path, key));
  }
  // Absent or null: nullopt.
  template <typename T>
  static std::optional<T> optional(const Json& obj, std::string_view key, const std::string& path);
  // Absent: `fallback`; present, it must be a T (null is not one).
  template <typename T>
  static T field_or(const Json& obj, std::string_view key, const std::string& path, T fallback) {
    if (!obj.is_object()) fail(path, fmt::format("expected an object, found {}", obj.type_name()));
    return obj.contains(key) ? field<T>(obj, key, path) : std::move(fallback);
  }
  static std::string text_or_empty(const Json& obj, std::string_view key, const std::string& path) {
    return optional<std::string>(obj, key, path).value_or("");
  }

  // A CPU list in its text form, "0-3,8".
  static CpuSet cpu_list(const Json& value, const std::string& path);
  static CpuSet cpus(const Json& obj, std::string_view key, const std::string& path) {
    return cpu_list(at(obj, key, path), join(path, key));
  }
  static std::optional<CpuSet> optional_cpus(const Json& obj, std::string_view key, const std::string& path);
  // A CPU number, below kCpuNumberLimit like every CPU a CpuSet holds.
  static unsigned cpu_number(const Json& value, const std::string& path);
  static unsigned cpu(const Json& obj, std::string_view key, const std::string& path) {
    return cpu_number(at(obj, key, path), join(path, key));
  }
  // An array of at most max_count CPU numbers, [0, 2, 5], as a list (order
  // kept); or of any count as a set (which holds each CPU once).
  static std::vector<unsigned> cpu_numbers(const Json& obj, std::string_view key, const std::string& path,
                                           std::size_t max_count);
  static CpuSet cpu_number_set(const Json& value, const std::string& path);

  // An array of at most max_count numbers (a bad element is named by its index).
  template <typename T>
  static std::vector<T> numbers(const Json& obj, std::string_view key, const std::string& path, std::size_t max_count);

  // One of `values`, by the name name() gives it.
  template <typename Enum>
  static Enum choice(const Json& value, const std::string& path, std::span<const Enum> values,
                     std::string_view (*name)(Enum));
  template <typename Enum, std::size_t N>
  static Enum choice(const Json& value, const std::string& path, const Enum (&values)[N], std::string_view (*name)(Enum)) {
    return choice(value, path, std::span<const Enum>(values), name);
  }
  template <typename Enum, std::size_t N>
  static Enum choice(const Json& obj, std::string_view key, const std::string& path, const Enum (&values)[N],
                     std::string_view (*name)(Enum)) {
    return choice(at(obj, key, path), join(path, key), values, name);
  }

 private:
  template <typename T>
  static bool whole_number_fits(const Json& value);
};

// ---- Templates ----

template <typename T>
bool JsonReader::whole_number_fits(const Json& value) {
  if (value.is_number_unsigned())
    return value.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
  if (!value.is_number_integer()) return false;
  const std::int64_t n = value.get<std::int64_t>();
  if (n < 0) return std::is_signed_v<T> && n >= static_cast<std::int64_t>(std::numeric_limits<T>::min());
  return static_cast<std::uint64_t>(n) <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
}

template <typename T>
T JsonReader::get(const Json& value, const std::string& path) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) fail(path, fmt::format("expected a string, found {}", value.type_name()));
    return value.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) fail(path, fmt::format("expected true or false, found {}", value.type_name()));
    return value.get<bool>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) fail(path, fmt::format("expected a number, found {}", value.type_name()));
    return value.get<T>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!whole_number_fits<T>(value))
      fail(path, value.is_number() ? fmt::format("{} is not a whole number from {} to {}", value.dump(),
                                                 std::numeric_limits<T>::min(), std::numeric_limits<T>::max())
                                   : fmt::format("expected a number, found {}", value.type_name()));
    return value.is_number_unsigned() ? static_cast<T>(value.get<std::uint64_t>())
                                      : static_cast<T>(value.get<std::int64_t>());
  } else {  // a std::vector of the above
    if (!value.is_array()) fail(path, fmt::format("expected an array, found {}", value.type_name()));
    T out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i)
      out.push_back(get<typename T::value_type>(value[i], index(path, i)));
    return out;
  }
}

template <typename T>
std::optional<T> JsonReader::optional(const Json& obj, std::string_view key, const std::string& path) {
  if (!obj.is_object()) fail(path, fmt::format("expected an object, found {}", obj.type_name()));
  const Json* value = find(obj, key);
  if (!value) return std::nullopt;
  return get<T>(*value, join(path, key));
}

template <typename T>
std::vector<T> JsonReader::numbers(const Json& obj, std::string_view key, const std::string& path,
                                   std::size_t max_count) {
  const Json& list = array(obj, key, path);
  if (list.size() > max_count)
    fail(join(path, key), fmt::format("{} numbers, more than the {} this list may hold", list.size(), max_count));
  return get<std::vector<T>>(list, join(path, key));
}

template <typename Enum>
Enum JsonReader::choice(const Json& value, const std::string& path, std::span<const Enum> values,
                        std::string_view (*name)(Enum)) {
  const std::string text = get<std::string>(value, path);
  for (Enum v : values)
    if (name(v) == text) return v;
  std::vector<std::string_view> names;
  for (Enum v : values) names.push_back(name(v));
  fail(path, fmt::format("'{}' is not one of {}", printable(text, 60), fmt::join(names, ", ")));
}

}  // namespace vpt
