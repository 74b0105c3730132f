#include "common/json_reader.hpp"

namespace vpt {

JsonFieldError::JsonFieldError(const std::string& path, std::string_view problem)
    : std::runtime_error(path.empty() ? std::string(problem) : fmt::format("{}: {}", path, problem)) {}

void JsonReader::fail(const std::string& path, std::string_view problem) { throw JsonFieldError(path, problem); }

std::string JsonReader::join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string JsonReader::index(const std::string& path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

const JsonReader::Json& JsonReader::at(const Json& obj, std::string_view key, const std::string& path) {
  if (!obj.is_object()) fail(path, fmt::format("expected an object, found {}", obj.type_name()));
  auto it = obj.find(key);
  if (it == obj.end()) fail(join(path, key), "missing");
  return *it;
}

const JsonReader::Json* JsonReader::find(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

const JsonReader::Json& JsonReader::array(const Json& obj, std::string_view key, const std::string& path) {
  const Json& value = at(obj, key, path);
  if (!value.is_array()) fail(join(path, key), fmt::format("expected an array, found {}", value.type_name()));
  return value;
}

CpuSet JsonReader::cpu_list(const Json& value, const std::string& path) {
  const std::string text = get<std::string>(value, path);
  try {
    return CpuSet::parse(text);
  } catch (const std::invalid_argument& e) {
    fail(path, printable(e.what()));
  }
}

std::optional<CpuSet> JsonReader::optional_cpus(const Json& obj, std::string_view key, const std::string& path) {
  if (!obj.is_object()) fail(path, fmt::format("expected an object, found {}", obj.type_name()));
  const Json* value = find(obj, key);
  if (!value) return std::nullopt;
  return cpu_list(*value, join(path, key));
}

unsigned JsonReader::cpu_number(const Json& value, const std::string& path) {
  if (!whole_number_fits<unsigned>(value) || value.get<std::uint64_t>() >= kCpuNumberLimit)
    fail(path, value.is_number() ? fmt::format("{} is not a CPU number (a whole number below {})", value.dump(),
                                               kCpuNumberLimit)
                                 : fmt::format("expected a CPU number, found {}", value.type_name()));
  return static_cast<unsigned>(value.get<std::uint64_t>());
}

std::vector<unsigned> JsonReader::cpu_numbers(const Json& obj, std::string_view key, const std::string& path,
                                              std::size_t max_count) {
  const Json& list = array(obj, key, path);
  const std::string p = join(path, key);
  if (list.size() > max_count)
    fail(p, fmt::format("{} numbers, more than the {} this list may hold", list.size(), max_count));
  std::vector<unsigned> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) out.push_back(cpu_number(list[i], index(p, i)));
  return out;
}

CpuSet JsonReader::cpu_number_set(const Json& value, const std::string& path) {
  if (!value.is_array()) fail(path, fmt::format("expected an array of CPU numbers, found {}", value.type_name()));
  CpuSet set;
  for (std::size_t i = 0; i < value.size(); ++i) set.insert(cpu_number(value[i], index(path, i)));
  return set;
}

}  // namespace vpt
