// Core-to-core latency: one cache line bounced between two pinned threads.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <exception>
#include <map>
#include <new>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "bench/kernel_table.hpp"
#include "bench/kernels.hpp"
#include "bench/statistics.hpp"

namespace vpt {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kStop = ~std::uint64_t{0};
// One sample should last long enough that reading the clock (~20-50 ns) is
// noise, and short enough that a preempted vCPU spoils only a few samples.
constexpr double kTargetSampleNs = 50'000;
constexpr unsigned kCalibrationRoundTrips = 16;
constexpr unsigned kCalibrationBatches = 5;

struct Shared {
  std::atomic<int> pinned{0};
  std::atomic<bool> abort{false};
  std::atomic<std::atomic<std::uint64_t>*> line{nullptr};
};

// Spins until `pred()` or until `timeout` passes (checked every 64k spins so
// the clock stays out of the hot loop). Returns false on timeout or abort.
template <typename Pred>
bool spin_until(Pred pred, const Shared& shared, std::chrono::duration<double> timeout) {
  auto start = Clock::now();
  for (std::uint64_t spins = 1;; ++spins) {
    if (pred()) return true;
    if ((spins & 0xFFFF) == 0) {
      if (shared.abort.load(std::memory_order_relaxed)) return false;
      if (Clock::now() - start > timeout) return false;
    }
  }
}

}  // namespace

CoreToCoreSamples measure_core_to_core(unsigned from_cpu, unsigned to_cpu, const CoreToCoreConfig& config) {
  if (from_cpu == to_cpu)
    throw std::invalid_argument(fmt::format("cannot measure core-to-core latency from CPU {} to itself", from_cpu));
  require_usable_cpus(CpuSet{from_cpu, to_cpu});

  Shared shared;
  std::exception_ptr from_error, to_error;
  CoreToCoreSamples out;
  const auto page_bytes = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  void* page = MAP_FAILED;

  std::thread responder([&] {
    try {
      pin_this_thread(to_cpu);
      shared.pinned.fetch_add(1);
      std::atomic<std::uint64_t>* line = nullptr;
      if (!spin_until([&] { return (line = shared.line.load(std::memory_order_acquire)) != nullptr; }, shared,
                      config.timeout))
        return;
      std::uint64_t expect = 1;
      for (;;) {
        std::uint64_t seen = 0;
        // No pause instruction: it would add its own latency to every answer.
        bool ok = spin_until(
            [&] {
              seen = line->load(std::memory_order_acquire);
              return seen == expect || seen == kStop;
            },
            shared, config.timeout);
        if (!ok || seen == kStop) return;
        line->store(expect + 1, std::memory_order_release);
        expect += 2;
      }
    } catch (...) {
      to_error = std::current_exception();
      shared.abort = true;
    }
  });

  std::thread initiator([&] {
    std::atomic<std::uint64_t>* line = nullptr;
    try {
      pin_this_thread(from_cpu);
      shared.pinned.fetch_add(1);
      if (!spin_until([&] { return shared.pinned.load() == 2; }, shared, config.timeout)) {
        if (!shared.abort) throw std::runtime_error(fmt::format("CPU {} never started", to_cpu));
        return;
      }
      // Fresh page, first touched here after pinning: local NUMA node, and the
      // line is in no third CPU's cache.
      page = mmap(nullptr, page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (page == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "cannot map a page");
      line = new (page) std::atomic<std::uint64_t>(0);
      shared.line.store(line, std::memory_order_release);

      std::uint64_t next = 1;
      auto round_trips = [&](unsigned count) {
        for (unsigned i = 0; i < count; ++i) {
          line->store(next, std::memory_order_release);
          const std::uint64_t want = next + 1;
          if (!spin_until([&] { return line->load(std::memory_order_acquire) == want; }, shared, config.timeout))
            throw std::runtime_error(fmt::format("CPU {} did not answer CPU {} within {:.1f} s", to_cpu, from_cpu,
                                                 config.timeout.count()));
          next += 2;
        }
      };
      auto timed = [&](unsigned count) {
        auto t0 = Clock::now();
        round_trips(count);
        return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
      };

      // Size samples: a round trip across sockets is ~0.2-0.5 µs, but vCPUs
      // sharing one host CPU take milliseconds. The fastest of a few batches,
      // so that one preemption does not shrink every sample.
      unsigned per_sample = config.fixed_round_trips;
      if (per_sample == 0) {
        double calib_ns = timed(kCalibrationRoundTrips) / kCalibrationRoundTrips;
        for (unsigned b = 1; b < kCalibrationBatches; ++b)
          calib_ns = std::min(calib_ns, timed(kCalibrationRoundTrips) / kCalibrationRoundTrips);
        per_sample = config.round_trips_per_sample;
        if (calib_ns > 0)
          per_sample = static_cast<unsigned>(std::clamp(kTargetSampleNs / calib_ns, 1.0, double(per_sample)));
      }
      out.round_trips_per_sample = per_sample;

      auto start = Clock::now();
      for (unsigned i = 0; i < config.warmup_samples; ++i) timed(per_sample);
      out.one_way_ns.reserve(config.samples);
      for (unsigned i = 0; i < config.samples; ++i) {
        out.one_way_ns.push_back(timed(per_sample) / per_sample / 2);
        if (Clock::now() - start > config.budget) break;
      }
      line->store(kStop, std::memory_order_release);
    } catch (...) {
      from_error = std::current_exception();
      shared.abort = true;
      if (line) line->store(kStop, std::memory_order_release);
    }
  });

  initiator.join();
  responder.join();
  if (page != MAP_FAILED) munmap(page, page_bytes);
  if (from_error) std::rethrow_exception(from_error);
  if (to_error) std::rethrow_exception(to_error);
  return out;
}

// ---- The kernel table's entry -------------------------------------------------

namespace {

struct CoreToCoreSettings {
  unsigned samples, warmup_per_round;
  double budget_s;  // per ordered pair, all rounds
};

CoreToCoreSettings c2c_settings(bool quick) {
  return quick ? CoreToCoreSettings{300, 4, 0.5} : CoreToCoreSettings{1000, 5, 3.0};
}

class CoreToCoreRun final : public KernelRun {
 public:
  CoreToCoreRun(const RunContext& ctx, std::vector<unsigned> cpus) : ctx_(ctx) {
    const CoreToCoreSettings s = c2c_settings(ctx.options.quick);
    CoreToCoreConfig defaults;
    c2c_.method = {s.samples, defaults.round_trips_per_sample, s.warmup_per_round, s.budget_s};
    c2c_.cpus = std::move(cpus);
    for (unsigned from : c2c_.cpus)
      for (unsigned to : c2c_.cpus)
        if (from != to) c2c_.pairs.push_back({from, to, {}, 0, ""});
  }

  void round(unsigned index) override {
    ctx_.progress(fmt::format("round {}/{}: core-to-core, {} ordered pairs of CPUs {}", index + 1, ctx_.rounds,
                              c2c_.pairs.size(), ctx_.measured));
    for (CoreToCorePair& pair : c2c_.pairs) {
      std::vector<double>& round = pair.samples_ns.rounds.emplace_back();
      if (!pair.error.empty()) continue;
      CoreToCoreConfig config;
      config.samples = share_of_round(c2c_.method.samples, ctx_.rounds, index);
      config.warmup_samples = c2c_.method.warmup_per_round;
      config.budget = std::chrono::duration<double>(c2c_.method.budget_s_per_pair / ctx_.rounds);
      config.fixed_round_trips = pair.round_trips_per_sample;  // 0 in the first round: calibrate
      try {
        CoreToCoreSamples s = measure_core_to_core(pair.from_cpu, pair.to_cpu, config);
        round = std::move(s.one_way_ns);
        pair.round_trips_per_sample = s.round_trips_per_sample;
      } catch (const BenchInputError&) {
        throw;
      } catch (const std::exception& e) {
        pair.error = e.what();
      }
    }
  }

  void finish(Results& results) override {
    const std::size_t n = c2c_.cpus.size();
    c2c_.median_ns.assign(n, std::vector<std::optional<double>>(n));
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (i != j) c2c_.median_ns[i][j] = median(c2c_.pairs[k++].samples_ns.pooled());
    results.core_to_core = std::move(c2c_);
  }

 private:
  const RunContext& ctx_;
  CoreToCore c2c_;
};

std::unique_ptr<KernelRun> start(const RunContext& ctx, Results& results) {
  std::vector<unsigned> cpus = ctx.measured.to_vector();
  if (cpus.size() < 2) {
    results.warnings.push_back(
        fmt::format("core-to-core latency needs two CPUs; measured CPUs: {}", ctx.measured));
    return nullptr;
  }
  return std::make_unique<CoreToCoreRun>(ctx, std::move(cpus));
}

void write(const Results& results, Json& doc) {
  if (!results.core_to_core) {
    doc["core_to_core"] = nullptr;
    return;
  }
  const CoreToCore& c = *results.core_to_core;
  Json matrix = Json::array();
  for (const auto& row : c.median_ns) {
    Json cells = Json::array();
    for (const auto& cell : row) cells.push_back(json_or_null(cell));
    matrix.push_back(std::move(cells));
  }
  Json pairs = Json::array();
  for (const CoreToCorePair& p : c.pairs) {
    Json row = {{"from", p.from_cpu},
                {"to", p.to_cpu},
                {"round_trips_per_sample", p.round_trips_per_sample},
                {"samples_ns", round_samples_json(p.samples_ns)}};
    put_error(row, p.error);
    pairs.push_back(std::move(row));
  }
  const CoreToCoreMethod& m = c.method;
  doc["core_to_core"] = {{"method",
                          {{"estimator", "one-way latency = round trip / 2; matrix cells are medians"},
                           {"samples", m.samples},
                           {"round_trips_per_sample", m.round_trips_per_sample},
                           {"warmup_samples_per_round", m.warmup_per_round},
                           {"budget_s_per_pair", m.budget_s_per_pair}}},
                         {"cpus", c.cpus},
                         {"median_ns", std::move(matrix)},
                         {"pairs", std::move(pairs)}};
}

void read(const ResultsReader& r, const Json& doc, Results& results) {
  const Json* c = r.find(doc, "core_to_core");
  if (!c) return;
  const std::string p = "core_to_core";
  CoreToCore c2c;
  // bench/1 kept every kernel's method in one "method" object.
  const Json& method = r.version1() ? r.at(r.at(doc, "method", ""), "core_to_core", "method")
                                    : r.at(*c, "method", p);
  const std::string mp = r.version1() ? "method.core_to_core" : p + ".method";
  c2c.method.samples = r.field<unsigned>(method, "samples", mp);
  c2c.method.round_trips_per_sample = r.field<unsigned>(method, "round_trips_per_sample", mp);
  c2c.method.warmup_per_round =
      r.field<unsigned>(method, r.version1() ? "warmup_samples_discarded" : "warmup_samples_per_round", mp);
  c2c.method.budget_s_per_pair = r.field<double>(method, "budget_s_per_pair", mp);
  c2c.cpus = r.cpu_numbers(*c, "cpus", p);
  const Json& matrix = r.array(*c, "median_ns", p);
  if (matrix.size() != c2c.cpus.size())
    r.fail(p + ".median_ns", fmt::format("{} rows for {} CPUs", matrix.size(), c2c.cpus.size()));
  for (std::size_t i = 0; i < matrix.size(); ++i) {
    std::string rp = ResultsReader::index(p + ".median_ns", i);
    if (!matrix[i].is_array() || matrix[i].size() != c2c.cpus.size())
      r.fail(rp, fmt::format("expected a row of {} cells", c2c.cpus.size()));
    std::vector<std::optional<double>> row;
    for (std::size_t k = 0; k < matrix[i].size(); ++k) {
      if (matrix[i][k].is_null()) row.push_back(std::nullopt);
      else row.push_back(r.get<double>(matrix[i][k], ResultsReader::index(rp, k)));
    }
    c2c.median_ns.push_back(std::move(row));
  }
  const Json& pairs = r.array(*c, "pairs", p);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    std::string pp = ResultsReader::index(p + ".pairs", i);
    CoreToCorePair pair;
    pair.from_cpu = r.cpu(pairs[i], "from", pp);
    pair.to_cpu = r.cpu(pairs[i], "to", pp);
    pair.round_trips_per_sample = r.field<unsigned>(pairs[i], "round_trips_per_sample", pp);
    pair.samples_ns = r.round_samples(pairs[i], "samples_ns", pp);
    pair.error = r.text_or_empty(pairs[i], "error", pp);
    c2c.pairs.push_back(std::move(pair));
  }
  results.core_to_core = std::move(c2c);
}

void series(const Results& results, std::vector<Series>& out) {
  if (!results.core_to_core) return;
  // Both directions of a pair pooled, round by round; and every measured pair
  // pooled: the guest's inter-vCPU traffic, even when the CPUs moved.
  std::map<std::pair<unsigned, unsigned>, RoundSamples> pairs;
  RoundSamples all;
  for (const CoreToCorePair& p : results.core_to_core->pairs) {
    pairs[{std::min(p.from_cpu, p.to_cpu), std::max(p.from_cpu, p.to_cpu)}].append(p.samples_ns);
    all.append(p.samples_ns);
  }
  out.push_back({"core-to-core, all measured pairs", "ns", Series::Statistic::Median, std::move(all), {}, 0});
  for (auto& [k, s] : pairs)
    out.push_back({fmt::format("core-to-core CPU {} <-> {}", k.first, k.second), "ns", Series::Statistic::Median,
                   std::move(s), {}, 0});
}

std::string num(std::optional<double> v) { return v ? fmt::format("{:.1f}", *v) : std::string("n/a"); }

void write_text(std::ostream& out, const Results& results) {
  if (!results.core_to_core) return;
  const CoreToCore& c = *results.core_to_core;
  std::size_t n = 0;
  for (const auto& p : c.pairs) n = std::max(n, p.samples_ns.count());
  fmt::print(out, "\nCore-to-core latency: median one-way, ns, n={} per direction in {} rounds\n", n,
             results.rounds);
  fmt::print(out, "  {:>8}", "from\\to");
  for (unsigned cpu : c.cpus) fmt::print(out, " {:>8}", fmt::format("CPU {}", cpu));
  fmt::print(out, "\n");
  for (std::size_t i = 0; i < c.cpus.size(); ++i) {
    fmt::print(out, "  {:>8}", fmt::format("CPU {}", c.cpus[i]));
    for (std::size_t j = 0; j < c.cpus.size(); ++j) fmt::print(out, " {:>8}", i == j ? "-" : num(c.median_ns[i][j]));
    fmt::print(out, "\n");
  }
  for (const auto& p : c.pairs) {
    if (!p.error.empty()) fmt::print(out, "  CPU {} -> {}: {}\n", p.from_cpu, p.to_cpu, p.error);
    else if (p.samples_ns.count() < c.method.samples)
      fmt::print(out, "  CPU {} -> {}: {} of {} samples within the time budget ({} round trips each)\n", p.from_cpu,
                 p.to_cpu, p.samples_ns.count(), c.method.samples, p.round_trips_per_sample);
  }
}

}  // namespace

const Kernel kCoreToCoreKernel{
    "core_to_core",
    "core-to-core latency: a cache line bounced between two pinned threads, every ordered pair of the measured CPUs",
    start, write, read, series, write_text};

}  // namespace vpt
