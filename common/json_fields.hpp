// One list of a struct's JSON fields, for writing it and for reading it back:
// a field on the list is written and read, never one without the other, so
// a writer and its reader cannot drift apart.
//
//   const JsonFields<NumaNode> fields = JsonFields<NumaNode>()
//       .field("node", &NumaNode::os_index)
//       .field("cpus", &NumaNode::cpus)
//       .field("memory_bytes", &NumaNode::memory_bytes);
//   json j = fields.write(node);
//   NumaNode back = fields.read(j, "numa.nodes[0]");
//
// Values: strings, bools, numbers, CpuSet (its text form "0-3,8"),
// std::optional (null), std::vector (an array), and structs with a list of
// their own (list() and object()). Errors are JsonReader's.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/json_reader.hpp"

namespace vpt {

namespace json_value {

template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};

template <typename T>
nlohmann::json write(const T& value) {
  if constexpr (std::is_same_v<T, CpuSet>) return value.to_string();
  else if constexpr (is_optional<T>::value) return value ? write(*value) : nlohmann::json(nullptr);
  else if constexpr (is_vector<T>::value) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& item : value) list.push_back(write(item));
    return list;
  } else return value;
}

template <typename T>
T read(const nlohmann::json& value, const std::string& path) {
  if constexpr (std::is_same_v<T, CpuSet>) return JsonReader::cpu_list(value, path);
  else if constexpr (is_optional<T>::value) {
    if (value.is_null()) return std::nullopt;
    return read<typename T::value_type>(value, path);
  } else if constexpr (is_vector<T>::value) {
    if (!value.is_array()) JsonReader::fail(path, fmt::format("expected an array, found {}", value.type_name()));
    T out;
    for (std::size_t i = 0; i < value.size(); ++i)
      out.push_back(read<typename T::value_type>(value[i], JsonReader::index(path, i)));
    return out;
  } else return JsonReader::get<T>(value, path);
}

}  // namespace json_value

// Whether a field must be in the file it is read from.
enum class Presence {
  Required,
  AddedLater,  // files written before the field was added lack it: absent or null keeps the default
};

template <typename S>
class JsonFields {
 public:
  using Json = nlohmann::json;
  // Writes the value of `key` for s.
  using Writer = std::function<Json(const S&)>;
  // Reads `value` (at `path`) into s.
  using Reader = std::function<void(const Json& value, const std::string& path, S& s)>;

  // Written, and required when read. A std::optional member may be null or absent.
  template <typename T>
  JsonFields& field(std::string key, T S::*member) {
    constexpr bool optional = json_value::is_optional<T>::value;
    return add(std::move(key), writer(member), reader(member), optional, optional);
  }
  // Written; read when present (absent or null keeps the member's default):
  // a field that files from earlier versions lack.
  template <typename T>
  JsonFields& added_later(std::string key, T S::*member) {
    return add(std::move(key), writer(member), reader(member), true, true);
  }
  // Written, never read: a value the reader recomputes from the others
  // (a topology's indices), kept in the file for people and other tools.
  template <typename T>
  JsonFields& derived(std::string key, T S::*member) {
    return add(std::move(key), writer(member), nullptr, true, true);
  }
  // Text that is "" when unknown: written as null, read from null or absent.
  JsonFields& text_or_null(std::string key, std::string S::*member) {
    return add(
        std::move(key), [member](const S& s) { return (s.*member).empty() ? Json(nullptr) : Json(s.*member); },
        [member](const Json& v, const std::string& p, S& s) { s.*member = JsonReader::get<std::string>(v, p); }, true,
        true);
  }
  // One of an enum's values, by name.
  template <typename E, std::size_t N>
  JsonFields& choice(std::string key, E S::*member, const E (&values)[N], std::string_view (*name)(E)) {
    std::vector<E> all(std::begin(values), std::end(values));
    return add(
        std::move(key), [member, name](const S& s) { return Json(name(s.*member)); },
        [member, name, all](const Json& v, const std::string& p, S& s) {
          s.*member = JsonReader::choice(v, p, std::span<const E>(all), name);
        },
        false, false);
  }
  // A list of structs, each with its own field list (which must outlive this
  // one). Presence::AddedLater: it may be absent; null is never a list.
  template <typename E>
  JsonFields& list(std::string key, std::vector<E> S::*member, const JsonFields<E>& element,
                   Presence presence = Presence::Required) {
    return add(
        std::move(key),
        [member, &element](const S& s) {
          Json out = Json::array();
          for (const E& e : s.*member) out.push_back(element.write(e));
          return out;
        },
        [member, &element](const Json& v, const std::string& p, S& s) {
          if (!v.is_array()) JsonReader::fail(p, fmt::format("expected an array, found {}", v.type_name()));
          for (std::size_t i = 0; i < v.size(); ++i) (s.*member).push_back(element.read(v[i], JsonReader::index(p, i)));
        },
        presence == Presence::AddedLater, false);
  }
  // Anything else: the pair of conversions. Presence::AddedLater: it may be
  // absent (the member keeps its default); a null reaches `read`, which says
  // whether it means anything.
  JsonFields& custom(std::string key, Writer write, Reader read, Presence presence = Presence::Required) {
    return add(std::move(key), std::move(write), std::move(read), presence == Presence::AddedLater, false);
  }

  Json write(const S& s) const {
    Json out = Json::object();
    for (const Field& f : fields_) out[f.key] = f.write(s);
    return out;
  }
  void read_into(const Json& obj, const std::string& path, S& s) const {
    if (!obj.is_object()) JsonReader::fail(path, fmt::format("expected an object, found {}", obj.type_name()));
    for (const Field& f : fields_) {
      if (!f.read) continue;
      auto it = obj.find(f.key);
      if (it == obj.end()) {
        if (f.absent_ok) continue;
        JsonReader::fail(JsonReader::join(path, f.key), "missing");
      }
      if (it->is_null() && f.null_ok) continue;
      f.read(*it, JsonReader::join(path, f.key), s);  // any other null fails there, naming the type it wanted
    }
  }
  S read(const Json& obj, const std::string& path) const {
    S s{};
    read_into(obj, path, s);
    return s;
  }

 private:
  struct Field {
    std::string key;
    Writer write;
    Reader read;             // empty: derived, written only
    bool absent_ok = false;  // absent keeps the member's default
    bool null_ok = false;    // null keeps the member's default
  };
  JsonFields& add(std::string key, Writer write, Reader read, bool absent_ok, bool null_ok) {
    fields_.push_back({std::move(key), std::move(write), std::move(read), absent_ok, null_ok});
    return *this;
  }
  template <typename T>
  static Writer writer(T S::*member) {
    return [member](const S& s) { return json_value::write(s.*member); };
  }
  template <typename T>
  static Reader reader(T S::*member) {
    return [member](const Json& v, const std::string& p, S& s) { s.*member = json_value::read<T>(v, p); };
  }

  std::vector<Field> fields_;
};

}  // namespace vpt
