// Memory latency: dependent loads over a random cycle, one size per call; and
// the kernel table's entry, which chases every size in every round.
#include <algorithm>
#include <exception>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "bench/kernel_table.hpp"
#include "bench/kernels.hpp"
#include "bench/pointer_chase.hpp"
#include "bench/statistics.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

std::vector<double> measure_pointer_chase(unsigned cpu, std::size_t bytes, const PointerChaseConfig& config) {
  require_usable_cpus(CpuSet{cpu});
  std::vector<double> samples;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      pin_this_thread(cpu);
      ChaseBuffer buffer(bytes, config.seed);
      for (unsigned i = 0; i < config.warmup_samples; ++i) buffer.ns_per_load(config.loads_per_sample);
      samples.reserve(config.samples);
      for (unsigned i = 0; i < config.samples; ++i) samples.push_back(buffer.ns_per_load(config.loads_per_sample));
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
  return samples;
}

// ---- The kernel table's entry -------------------------------------------------

namespace {

constexpr std::uint64_t KiB = 1024, MiB = 1024 * KiB;
constexpr std::uint64_t kDramTarget = 256 * MiB;

struct MemorySettings {
  unsigned samples, warmup_per_round;
  std::uint64_t loads_per_sample;
  double max_sample_ms;     // DRAM-sized chases take fewer loads a sample
  bool intermediate_sizes;  // 1.5x steps between powers of two
};

MemorySettings memory_settings(bool quick) {
  return quick ? MemorySettings{15, 1, 1u << 17, 5, false} : MemorySettings{30, 1, 1u << 19, 20, true};
}

constexpr std::uint64_t kMinLoadsPerSample = 1u << 13;

// Working sets up to this size get a buffer of their own in every round, all
// kept until the run ends (so that each round's pages are new ones, not the
// ones the last round freed). Which cache sets a buffer's physical pages map
// to decides how a size near a cache's capacity performs (2 MiB on this VM's
// 2 MiB L2: 5.5 ns in one run, 20 ns in the next): with one allocation a run,
// every round would repeat its luck and two runs would differ "significantly"
// with nothing changed. Bigger sets are past the L2s, where rebuilding would
// cost seconds; what it costs: 5 rounds x 32 MiB with --quick.
constexpr std::uint64_t kFreshBufferMaxBytes = 16 * MiB;

std::optional<std::uint64_t> mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  std::uint64_t kib = 0;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * KiB;
  return std::nullopt;
}

// Every size's buffer stays allocated over the rounds (rebuilding a 256 MiB
// cycle each round would cost more than measuring it), so the sizes' sum,
// about twice the largest, must fit: the largest is capped at an eighth of
// the available memory.
std::vector<std::uint64_t> sizes_to_measure(const Results& results, bool intermediate) {
  std::uint64_t largest_cache = 0;
  for (const CacheSize& c : results.host.caches) largest_cache = std::max(largest_cache, c.size_bytes);
  std::uint64_t max_bytes = std::max(kDramTarget, 4 * largest_cache);
  if (auto avail = mem_available_bytes(); avail && max_bytes > *avail / 8) {
    std::uint64_t capped = 4 * KiB;
    while (capped * 2 <= *avail / 8) capped *= 2;
    max_bytes = capped;
  }
  std::vector<std::uint64_t> sizes;
  for (std::uint64_t b = 4 * KiB; b < 2 * max_bytes; b *= 2) {
    sizes.push_back(std::min(b, max_bytes));
    if (intermediate && b * 3 / 2 < max_bytes) sizes.push_back(b * 3 / 2);
    if (b >= max_bytes) break;
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

class MemoryLatencyRun final : public KernelRun {
 public:
  MemoryLatencyRun(const RunContext& ctx, MemoryLatency memory)
      : ctx_(ctx), memory_(std::move(memory)), buffers_(memory_.points.size()) {}

  void round(unsigned index) override {
    const MemoryLatencyMethod& m = memory_.method;
    ctx_.progress(fmt::format("round {}/{}: memory latency on CPU {}, {} sizes to {}", index + 1, ctx_.rounds, m.cpu,
                              memory_.points.size(), format_bytes(memory_.points.back().bytes)));
    const unsigned n = share_of_round(m.samples, ctx_.rounds, index);
    std::exception_ptr pin_error;
    // One pinned thread a round: the buffers were first touched on this CPU in
    // round 1, so their pages sit on its NUMA node.
    std::thread worker([&] {
      try {
        pin_this_thread(m.cpu);
      } catch (...) {
        pin_error = std::current_exception();
        return;
      }
      for (std::size_t i = 0; i < memory_.points.size(); ++i) {
        LatencyPoint& point = memory_.points[i];
        std::vector<double>& round = point.samples_ns.rounds.emplace_back();
        if (!point.error.empty()) continue;
        try {
          if (buffers_[i] && point.bytes <= kFreshBufferMaxBytes) retired_.push_back(std::move(buffers_[i]));
          if (!buffers_[i]) buffers_[i] = std::make_unique<ChaseBuffer>(point.bytes, PointerChaseConfig{}.seed + index);
          if (point.loads_per_sample == 0) {
            // Size the samples on a first pass: a DRAM-sized chase at 300 ns a
            // load needs far fewer loads than an L1 one for a steady median.
            const double ns = buffers_[i]->ns_per_load(kMinLoadsPerSample);
            const double fit = m.max_sample_ms * 1e6 / std::max(ns, 0.1);
            point.loads_per_sample = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(fit), kMinLoadsPerSample,
                                                               m.loads_per_sample);
          }
          for (unsigned w = 0; w < m.warmup_per_round; ++w) buffers_[i]->ns_per_load(point.loads_per_sample);
          for (unsigned s = 0; s < n; ++s) round.push_back(buffers_[i]->ns_per_load(point.loads_per_sample));
        } catch (const std::exception& e) {
          point.error = e.what();
          buffers_[i].reset();
        }
      }
    });
    worker.join();
    if (pin_error) {
      for (LatencyPoint& p : memory_.points)
        if (p.error.empty()) p.error = "cannot pin to CPU " + std::to_string(m.cpu);
    }
  }

  void finish(Results& results) override {
    buffers_.clear();
    retired_.clear();
    for (LatencyPoint& p : memory_.points) p.ns = median(p.samples_ns.pooled());
    results.memory_latency = std::move(memory_);
  }

 private:
  const RunContext& ctx_;
  MemoryLatency memory_;
  std::vector<std::unique_ptr<ChaseBuffer>> buffers_;
  std::vector<std::unique_ptr<ChaseBuffer>> retired_;  // earlier rounds' small buffers, see kFreshBufferMaxBytes
};

std::unique_ptr<KernelRun> start(const RunContext& ctx, Results& results) {
  const MemorySettings s = memory_settings(ctx.options.quick);
  MemoryLatency memory;
  memory.method = {ctx.measured.first(), s.samples,        s.warmup_per_round,
                   s.loads_per_sample,    s.max_sample_ms,  static_cast<unsigned>(kLineBytes)};
  std::uint64_t largest_cache = 0;
  for (const CacheSize& c : results.host.caches) largest_cache = std::max(largest_cache, c.size_bytes);
  std::vector<std::uint64_t> sizes = sizes_to_measure(results, s.intermediate_sizes);
  const std::uint64_t wanted = std::max(kDramTarget, 4 * largest_cache);
  if (sizes.back() < wanted)
    results.warnings.push_back(fmt::format(
        "memory latency stops at {} (an eighth of the available memory: every size's buffer is kept over the "
        "rounds), not {}",
        format_bytes(sizes.back()), format_bytes(wanted)));
  for (std::uint64_t bytes : sizes) {
    LatencyPoint p;
    p.bytes = bytes;
    p.level = level_for_bytes(bytes, results.host.caches);
    memory.points.push_back(std::move(p));
  }
  return std::make_unique<MemoryLatencyRun>(ctx, std::move(memory));
}

void write(const Results& results, Json& doc) {
  if (!results.memory_latency) {
    doc["memory_latency"] = nullptr;
    return;
  }
  const MemoryLatency& m = *results.memory_latency;
  Json points = Json::array();
  for (const LatencyPoint& p : m.points) {
    Json row = {{"bytes", p.bytes},
                {"ns", json_or_null(p.ns)},
                {"level", p.level},
                {"loads_per_sample", p.loads_per_sample},
                {"samples_ns", round_samples_json(p.samples_ns)}};
    put_error(row, p.error);
    points.push_back(std::move(row));
  }
  doc["memory_latency"] = {
      {"method",
       {{"estimator", "ns per dependent load over a random cycle, one node per line; rows are medians"},
        {"cpu", m.method.cpu},
        {"samples", m.method.samples},
        {"warmup_samples_per_round", m.method.warmup_per_round},
        {"loads_per_sample", m.method.loads_per_sample},
        {"max_sample_ms", m.method.max_sample_ms},
        {"line_bytes", m.method.line_bytes}}},
      {"points", std::move(points)}};
}

void read(const ResultsReader& r, const Json& doc, Results& results) {
  const Json* section = r.find(doc, "memory_latency");
  if (!section) return;
  MemoryLatency m;
  // bench/1: an array of points, the method in the shared "method" object.
  const bool v1 = r.version1();
  const Json& method = v1 ? r.at(r.at(doc, "method", ""), "memory_latency", "method") : r.at(*section, "method", "memory_latency");
  const std::string mp = v1 ? "method.memory_latency" : "memory_latency.method";
  m.method.cpu = r.cpu(method, "cpu", mp);
  m.method.samples = r.field<unsigned>(method, "samples", mp);
  m.method.warmup_per_round = r.field<unsigned>(method, v1 ? "warmup_samples_discarded" : "warmup_samples_per_round", mp);
  m.method.loads_per_sample = r.field<std::uint64_t>(method, "loads_per_sample", mp);
  if (!v1) m.method.max_sample_ms = r.field<double>(method, "max_sample_ms", mp);
  m.method.line_bytes = r.field<unsigned>(method, "line_bytes", mp);
  const Json& points = v1 ? *section : r.array(*section, "points", "memory_latency");
  const std::string pp = v1 ? "memory_latency" : "memory_latency.points";
  if (!points.is_array()) r.fail(pp, fmt::format("expected an array, found {}", points.type_name()));
  for (std::size_t i = 0; i < points.size(); ++i) {
    std::string p = ResultsReader::index(pp, i);
    LatencyPoint pt;
    pt.bytes = r.field<std::uint64_t>(points[i], "bytes", p);
    pt.ns = r.optional<double>(points[i], "ns", p);
    pt.level = r.text_or_empty(points[i], "level", p);
    // bench/1 used the method's count for every size.
    pt.loads_per_sample = v1 ? m.method.loads_per_sample : r.field<std::uint64_t>(points[i], "loads_per_sample", p);
    pt.samples_ns = r.round_samples(points[i], "samples_ns", p);
    pt.error = r.text_or_empty(points[i], "error", p);
    m.points.push_back(std::move(pt));
  }
  results.memory_latency = std::move(m);
}

void series(const Results& results, std::vector<Series>& out) {
  if (!results.memory_latency) return;
  for (const LatencyPoint& p : results.memory_latency->points)
    out.push_back({fmt::format("memory {} ({})", format_bytes(p.bytes), p.level), "ns", Series::Statistic::Median,
                   p.samples_ns, {}, 0});
}

std::string num(std::optional<double> v, int decimals) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : std::string("n/a");
}

void write_text(std::ostream& out, const Results& results) {
  if (!results.memory_latency) return;
  const MemoryLatency& m = *results.memory_latency;
  fmt::print(out, "\nMemory latency on CPU {}: median ns per dependent load, n={} in {} rounds, random cycle over "
                  "{}-byte lines\n",
             m.method.cpu, m.method.samples, results.rounds, m.method.line_bytes);
  for (const LatencyPoint& p : m.points) {
    std::vector<double> all = p.samples_ns.pooled();
    fmt::print(out, "  {:>10} {:>10}  {:<24} MAD {}\n", format_bytes(p.bytes),
               p.ns ? fmt::format("{:.1f}", *p.ns) : fmt::format("n/a (n={})", all.size()), p.level,
               num(mad(all), 2));
    if (!p.error.empty()) fmt::print(out, "             {}\n", p.error);
  }
}

}  // namespace

const Kernel kMemoryLatencyKernel{
    "memory_latency",
    "memory latency: ns per dependent load over a random cycle of 4 KiB up to DRAM-sized working sets, on the "
    "first measured CPU",
    start, write, read, series, write_text};

}  // namespace vpt
