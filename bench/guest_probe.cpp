// The in-guest probe's output lines (guest/README.md). The serial channel is
// in guest_channel.cpp, the agent in guest_agent.cpp, the results' "guest"
// section in guest_results.cpp.
#include "bench/guest_probe.hpp"

#include <charconv>
#include <map>

#include <fmt/format.h>

#include "bench/results_json.hpp"
#include "common/text.hpp"


namespace vpt {

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
      rec.fields["error"] = printable(line.substr(start + 6));  // the guest's words: never raw to a terminal
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

// A vCPU number the results reader takes back (kCpuNumberLimit): a
// larger one would make the saved results unreadable (found by
// tests/fuzz/guest_probe_fuzz.cpp).
std::optional<unsigned> cpu_number(std::string_view text) {
  auto n = number<unsigned>(text);
  if (n && *n >= kCpuNumberLimit) return std::nullopt;
  return n;
}

// "0,1" -> (0, 1)
std::optional<std::pair<unsigned, unsigned>> cpu_pair(std::string_view text) {
  std::size_t comma = text.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  auto a = cpu_number(text.substr(0, comma)), b = cpu_number(text.substr(comma + 1));
  if (!a || !b) return std::nullopt;
  return std::pair{*a, *b};
}

std::optional<std::string_view> field(const Record& rec, std::string_view key) {
  auto it = rec.fields.find(key);
  if (it == rec.fields.end()) return std::nullopt;
  return std::string_view(it->second);
}

// More rounds than any probe takes: a bound against garbage input.
constexpr unsigned kMaxRounds = 100;
// What a guest's output may make of the results (a guest is untrusted: 9.9 MiB
// of distinct c2c lines once became a 395 MB results file). The probe's own
// maximum is --max-pairs 100000 pairs; rows beyond these bounds are dropped
// with one problem each kind, and at most kMaxProblems problem lines are kept.
constexpr std::size_t kMaxRows = 4096;         // c2c pairs, chase (CPU, size) rows, wake-up CPUs: each
constexpr std::size_t kMaxSamples = 1u << 21;  // samples over every row and round
constexpr std::size_t kMaxProblems = 50;

// Samples of round `round` of a row, the rounds grown as needed.
std::vector<double>& round_of(RoundSamples& samples, unsigned round) {
  if (samples.rounds.size() <= round) samples.rounds.resize(round + 1);
  return samples.rounds[round];
}

}  // namespace

GuestProbeOutput parse_guest_probe_output(std::string_view text) {
  GuestProbeOutput out;
  std::map<std::pair<unsigned, unsigned>, std::size_t> c2c_index;
  std::map<std::pair<unsigned, std::uint64_t>, std::size_t> chase_index;
  std::map<unsigned, std::size_t> wakeup_index;
  std::size_t dropped_problems = 0, samples = 0;
  std::optional<unsigned> current_round;  // of the line being read
  // Every problem goes through note(): at most kMaxProblems are kept, the rest counted.
  auto note = [&](std::string text) {
    if (out.problems.size() < kMaxProblems) out.problems.push_back(std::move(text));
    else ++dropped_problems;
  };
  auto problem = [&](std::string_view line, std::string_view what) {
    note(fmt::format("{}: '{}'", what, printable(line, 80)));
  };
  // A CPU the guest said it does not have (probe online_cpus=N comes first):
  // no measurement of it is a row; an error about it (--cpus named it) is.
  auto offline = [&](unsigned cpu) { return out.online_cpus && cpu >= *out.online_cpus; };
  auto full = [&](std::size_t rows, std::string_view line, std::string_view what) {
    if (rows < kMaxRows) return false;
    problem(line, fmt::format("more than {} {} rows: the rest are dropped", kMaxRows, what));
    return true;
  };
  // "round=N" (version 2; version 1 had one round), below the announced count.
  auto round_field = [&](const Record& rec, std::string_view line) -> std::optional<unsigned> {
    auto text = field(rec, "round");
    if (!text) return 0u;
    auto r = number<unsigned>(*text);
    if (!r || *r >= kMaxRounds) {
      problem(line, fmt::format("round= is not a number below {}", kMaxRounds));
      return std::nullopt;
    }
    return r;
  };
  auto samples_list = [&](const Record& rec, std::string_view key, std::string_view line,
                          std::string_view what) -> std::optional<std::vector<double>> {
    auto values = field(rec, key);
    auto list = values ? number_list(*values) : std::nullopt;
    if (!list) problem(line, fmt::format("{} line with a bad {}= list", what, key));
    else if ((samples += list->size()) > kMaxSamples) {
      problem(line, fmt::format("more than {} samples in all: the rest are dropped", kMaxSamples));
      return std::nullopt;
    }
    return list;
  };

  // What every row kind does with a line (c2c by vCPU pair, chase by vCPU and
  // size, wakeup by vCPU): a measurement of an offline vCPU is refused, the
  // round read, and the row found or added (at most kMaxRows a kind).
  // nullptr: the line was a problem, noted.
  auto row_of = [&](auto& rows, auto& index, const auto& key, bool key_offline, std::string_view kind,
                    const Record& rec, std::string_view line, auto init) -> decltype(&rows.front()) {
    if (key_offline && !field(rec, "error")) {
      problem(line, fmt::format("{} line for a CPU beyond the guest's online CPUs", kind));
      return nullptr;
    }
    current_round = round_field(rec, line);
    if (!current_round) return nullptr;
    if (!index.count(key) && full(rows.size(), line, kind)) return nullptr;
    auto [it, added] = index.try_emplace(key, rows.size());
    if (added) init(rows.emplace_back());
    return &rows[it->second];
  };
  // A *_samples line: its list is the samples of the row's current round.
  auto take_samples = [&](RoundSamples& samples, const Record& rec, std::string_view key, std::string_view line) {
    if (auto list = samples_list(rec, key, line, rec.type)) round_of(samples, *current_round) = std::move(*list);
  };
  auto positive = [&](const Record& rec, std::string_view key) -> std::optional<unsigned> {
    auto text = field(rec, key);
    auto n = text ? number<unsigned>(*text) : std::nullopt;
    if (n && *n > 0) return n;
    return std::nullopt;
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
      if (auto o = field(rec, "os")) out.os = std::string(*o);
      if (auto r = field(rec, "rounds")) {
        auto n = number<unsigned>(*r);
        if (n && *n >= 1 && *n <= kMaxRounds) out.rounds = *n;
        else problem(line, fmt::format("rounds= is not a number from 1 to {}", kMaxRounds));
      }
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
      GuestC2c* c = row_of(out.c2c, c2c_index, *pair, offline(pair->first) || offline(pair->second), "c2c", rec, line,
                           [&](GuestC2c& r) { r.cpu_a = pair->first, r.cpu_b = pair->second; });
      if (!c) continue;
      if (rec.type == "c2c_samples") take_samples(c->samples_ns, rec, "ns", line);
      else if (auto e = field(rec, "error")) c->error = std::string(*e);
      else if (auto k = positive(rec, "round_trips_per_sample")) {
        if (c->round_trips_per_sample == 0) c->round_trips_per_sample = *k;
      } else problem(line, "c2c line without round_trips_per_sample or error");
    } else if (rec.type == "chase" || rec.type == "chase_samples") {
      auto cpu_text = field(rec, "cpu");
      auto bytes_text = field(rec, "bytes");
      auto cpu = cpu_text ? cpu_number(*cpu_text) : std::nullopt;
      auto bytes = bytes_text ? number<std::uint64_t>(*bytes_text) : std::nullopt;
      if (!cpu || !bytes) {
        problem(line, "chase line without cpu= and bytes=");
        continue;
      }
      GuestChase* c = row_of(out.chase, chase_index, std::pair{*cpu, *bytes}, offline(*cpu), "chase", rec, line,
                             [&](GuestChase& r) { r.cpu = *cpu, r.bytes = *bytes; });
      if (!c) continue;
      if (rec.type == "chase_samples") take_samples(c->samples_ns, rec, "ns", line);
      else if (auto e = field(rec, "error")) c->error = std::string(*e);
      else if (auto l = field(rec, "loads_per_sample"); l && number<std::uint64_t>(*l)) {
        if (c->loads_per_sample == 0) c->loads_per_sample = *number<std::uint64_t>(*l);
      } else problem(line, "chase line without loads_per_sample or error");
    } else if (rec.type == "wakeup" || rec.type == "wakeup_samples") {
      auto cpu_text = field(rec, "cpu");
      auto cpu = cpu_text ? cpu_number(*cpu_text) : std::nullopt;
      if (!cpu) {
        problem(line, "wakeup line without cpu=");
        continue;
      }
      GuestWakeup* w = row_of(out.wakeup, wakeup_index, *cpu, offline(*cpu), "wakeup", rec, line,
                              [&](GuestWakeup& r) { r.cpu = *cpu; });
      if (!w) continue;
      if (rec.type == "wakeup_samples") take_samples(w->samples_us, rec, "us", line);
      else if (auto e = field(rec, "error")) w->error = std::string(*e);
      else if (auto i = positive(rec, "interval_us")) {
        w->interval_us = *i;
        if (auto t = field(rec, "timer")) w->timer = std::string(*t);
      } else problem(line, "wakeup line without interval_us or error");
    }
    // Anything else is not the probe's (a shell's message, an empty line).
  }
  for (GuestC2c& c : out.c2c) {
    if (c.error.empty() && c.round_trips_per_sample == 0)
      note(fmt::format("c2c samples of vCPUs {},{} without their summary line", c.cpu_a, c.cpu_b));
    c.samples_ns.rounds.resize(std::max<std::size_t>(c.samples_ns.rounds.size(), out.rounds));
  }
  for (GuestChase& c : out.chase) {
    if (c.error.empty() && c.loads_per_sample == 0)
      note(fmt::format("chase samples of {} bytes without their summary line", c.bytes));
    c.samples_ns.rounds.resize(std::max<std::size_t>(c.samples_ns.rounds.size(), out.rounds));
  }
  for (GuestWakeup& w : out.wakeup) {
    if (w.error.empty() && w.interval_us == 0)
      note(fmt::format("wake-up samples of vCPU {} without their summary line", w.cpu));
    w.samples_us.rounds.resize(std::max<std::size_t>(w.samples_us.rounds.size(), out.rounds));
  }
  if (!out.version) note("no 'probe version=' line: is vpt-guest-probe in the guest?");
  else if (!out.complete) note("the output stops before its 'end' line");
  if (dropped_problems) out.problems.push_back(fmt::format("{} more problems not shown", dropped_problems));
  return out;
}

}  // namespace vpt
