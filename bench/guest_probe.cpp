// The in-guest probe's output lines, the results' "guest" section and the
// series compare tests. The channel itself is in guest_channel.cpp.
#include "bench/guest_probe.hpp"

#include <charconv>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/statistics.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

using nlohmann::json;

namespace {

// "TYPE k=v k=v ... error=rest of line": the type and the fields.
struct Record {
  std::string type;
  std::map<std::string, std::string, std::less<>> fields;
};

Record split_record(std::string_view line) {
  Record rec;
  std::size_t pos = line.find(' ');
  rec.type = std::string(line.substr(0, pos));
  while (pos != std::string_view::npos) {
    std::size_t start = line.find_first_not_of(' ', pos);
    if (start == std::string_view::npos) break;
    if (line.substr(start).starts_with("error=")) {
      rec.fields["error"] = std::string(line.substr(start + 6));
      break;
    }
    pos = line.find(' ', start);
    std::string_view token = line.substr(start, pos == std::string_view::npos ? pos : pos - start);
    std::size_t eq = token.find('=');
    if (eq == std::string_view::npos) rec.fields[std::string(token)] = "";
    else rec.fields[std::string(token.substr(0, eq))] = std::string(token.substr(eq + 1));
  }
  return rec;
}

template <typename T>
std::optional<T> number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "1.5,2,3" -> numbers; nullopt if any element is not a finite non-negative number.
std::optional<std::vector<double>> number_list(std::string_view text) {
  std::vector<double> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = text.find(',', start);
    auto x = number<double>(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (!x || !(*x >= 0) || *x > 1e300) return std::nullopt;
    out.push_back(*x);
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

// "0,1" -> (0, 1)
std::optional<std::pair<unsigned, unsigned>> cpu_pair(std::string_view text) {
  std::size_t comma = text.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  auto a = number<unsigned>(text.substr(0, comma)), b = number<unsigned>(text.substr(comma + 1));
  if (!a || !b) return std::nullopt;
  return std::pair{*a, *b};
}

std::optional<std::string_view> field(const Record& rec, std::string_view key) {
  auto it = rec.fields.find(key);
  if (it == rec.fields.end()) return std::nullopt;
  return std::string_view(it->second);
}

}  // namespace

GuestProbeOutput parse_guest_probe_output(std::string_view text) {
  GuestProbeOutput out;
  std::map<std::pair<unsigned, unsigned>, std::size_t> c2c_index;
  std::map<std::pair<unsigned, std::uint64_t>, std::size_t> chase_index;
  auto problem = [&](std::string_view line, std::string_view what) {
    std::string shown(line.substr(0, 80));
    if (line.size() > 80) shown += "...";
    out.problems.push_back(fmt::format("{}: '{}'", what, shown));
  };

  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    Record rec = split_record(line);

    if (rec.type == "probe") {
      auto v = field(rec, "version");
      out.version = v ? number<unsigned>(*v) : std::nullopt;
      if (auto n = field(rec, "online_cpus")) out.online_cpus = number<unsigned>(*n);
      if (auto t = field(rec, "timer_ns")) out.timer_ns = number<double>(*t);
      if (!out.version) problem(line, "probe line without a version");
    } else if (rec.type == "end") {
      out.complete = true;
    } else if (rec.type == "c2c" || rec.type == "c2c_samples") {
      auto cpus = field(rec, "cpus");
      auto pair = cpus ? cpu_pair(*cpus) : std::nullopt;
      if (!pair) {
        problem(line, "c2c line without cpus=A,B");
        continue;
      }
      auto [it, added] = c2c_index.try_emplace(*pair, out.c2c.size());
      if (added) {
        out.c2c.push_back({});
        out.c2c.back().cpu_a = pair->first;
        out.c2c.back().cpu_b = pair->second;
      }
      GuestC2c& c = out.c2c[it->second];
      if (rec.type == "c2c") {
        if (auto e = field(rec, "error")) {
          c.error = std::string(*e);
        } else if (auto k = field(rec, "round_trips_per_sample"); k && number<unsigned>(*k) && *number<unsigned>(*k) > 0) {
          c.round_trips_per_sample = *number<unsigned>(*k);
        } else {
          problem(line, "c2c line without round_trips_per_sample or error");
        }
      } else {
        auto ns = field(rec, "ns");
        auto list = ns ? number_list(*ns) : std::nullopt;
        if (!list) problem(line, "c2c_samples line with a bad ns= list");
        else c.samples_ns = std::move(*list);
      }
    } else if (rec.type == "chase" || rec.type == "chase_samples") {
      auto cpu_text = field(rec, "cpu");
      auto bytes_text = field(rec, "bytes");
      auto cpu = cpu_text ? number<unsigned>(*cpu_text) : std::nullopt;
      auto bytes = bytes_text ? number<std::uint64_t>(*bytes_text) : std::nullopt;
      if (!cpu || !bytes) {
        problem(line, "chase line without cpu= and bytes=");
        continue;
      }
      auto [it, added] = chase_index.try_emplace({*cpu, *bytes}, out.chase.size());
      if (added) {
        out.chase.push_back({});
        out.chase.back().cpu = *cpu;
        out.chase.back().bytes = *bytes;
      }
      GuestChase& c = out.chase[it->second];
      if (rec.type == "chase") {
        if (auto e = field(rec, "error")) c.error = std::string(*e);
        else if (auto l = field(rec, "loads_per_sample"); l && number<std::uint64_t>(*l))
          c.loads_per_sample = *number<std::uint64_t>(*l);
        else problem(line, "chase line without loads_per_sample or error");
      } else {
        auto ns = field(rec, "ns");
        auto list = ns ? number_list(*ns) : std::nullopt;
        if (!list) problem(line, "chase_samples line with a bad ns= list");
        else c.samples_ns = std::move(*list);
      }
    }
    // Anything else is not the probe's (a shell's message, an empty line).
  }
  for (const GuestC2c& c : out.c2c)
    if (c.error.empty() && c.round_trips_per_sample == 0)
      out.problems.push_back(fmt::format("c2c samples of vCPUs {},{} without their summary line", c.cpu_a, c.cpu_b));
  for (const GuestChase& c : out.chase)
    if (c.error.empty() && c.loads_per_sample == 0)
      out.problems.push_back(fmt::format("chase samples of {} bytes without their summary line", c.bytes));
  if (!out.version) out.problems.push_back("no 'probe version=' line: is vpt-guest-probe in the guest?");
  else if (!out.complete) out.problems.push_back("the output stops before its 'end' line");
  return out;
}

namespace {

json opt(std::optional<double> v) { return v ? json(*v) : json(nullptr); }

}  // namespace

std::string guest_section_json(const GuestRun& run) {
  const GuestProbeOutput& o = run.output;
  json c2c = json::array();
  for (const GuestC2c& c : o.c2c) {
    json row = {{"cpus", {c.cpu_a, c.cpu_b}},
                {"round_trips_per_sample", c.round_trips_per_sample},
                {"median_ns", opt(median(c.samples_ns))},
                {"p99_ns", opt(quantile(c.samples_ns, 0.99))},
                {"samples_ns", c.samples_ns}};
    if (!c.error.empty()) row["error"] = c.error;
    c2c.push_back(std::move(row));
  }
  json chase = json::array();
  for (const GuestChase& c : o.chase) {
    json row = {{"cpu", c.cpu},
                {"bytes", c.bytes},
                {"loads_per_sample", c.loads_per_sample},
                {"median_ns", opt(median(c.samples_ns))},
                {"samples_ns", c.samples_ns}};
    if (!c.error.empty()) row["error"] = c.error;
    chase.push_back(std::move(row));
  }
  json doc = {{"probe", "vpt-guest-probe"},
              {"probe_version", o.version ? json(*o.version) : json(nullptr)},
              {"channel", run.channel},
              {"command", run.command},
              {"exit_code", run.exit_code ? json(*run.exit_code) : json(nullptr)},
              {"duration_s", run.duration_s},
              {"online_cpus", o.online_cpus ? json(*o.online_cpus) : json(nullptr)},
              {"timer_ns", opt(o.timer_ns)},
              {"c2c_unit", "round trip"},
              {"c2c", std::move(c2c)},
              {"chase", std::move(chase)},
              {"problems", o.problems}};
  if (!run.error.empty()) doc["error"] = run.error;
  // A guest's console may send any bytes: invalid UTF-8 is replaced, not a failure.
  return doc.dump(2, ' ', false, json::error_handler_t::replace);
}

std::vector<GuestSeries> guest_series(const Results& results) {
  std::vector<GuestSeries> out;
  if (!results.guest_json) return out;
  json doc = json::parse(*results.guest_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return out;
  auto samples_of = [](const json& row, double scale) -> std::optional<std::vector<double>> {
    auto it = row.find("samples_ns");
    if (it == row.end() || !it->is_array()) return std::nullopt;
    std::vector<double> v;
    for (const json& x : *it) {
      if (!x.is_number()) return std::nullopt;
      v.push_back(x.get<double>() * scale);
    }
    return v;
  };
  if (auto it = doc.find("c2c"); it != doc.end() && it->is_array())
    for (const json& row : *it) {
      auto cpus = row.find("cpus");
      if (!row.is_object() || cpus == row.end() || !cpus->is_array() || cpus->size() != 2 ||
          !(*cpus)[0].is_number_unsigned() || !(*cpus)[1].is_number_unsigned())
        continue;
      if (auto s = samples_of(row, 1e-3))
        out.push_back({fmt::format("guest_c2c vCPU {} <-> {}, round trip", (*cpus)[0].get<unsigned>(),
                                   (*cpus)[1].get<unsigned>()),
                       "us", std::move(*s)});
    }
  if (auto it = doc.find("chase"); it != doc.end() && it->is_array())
    for (const json& row : *it) {
      if (!row.is_object() || !row.contains("cpu") || !row["cpu"].is_number_unsigned() || !row.contains("bytes") ||
          !row["bytes"].is_number_unsigned())
        continue;
      if (auto s = samples_of(row, 1))
        out.push_back({fmt::format("guest_chase {} on vCPU {}", format_bytes(row["bytes"].get<std::uint64_t>()),
                                   row["cpu"].get<unsigned>()),
                       "ns", std::move(*s)});
    }
  return out;
}

}  // namespace vpt
