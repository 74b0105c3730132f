// Interference: the pointer chase on one CPU, quiet and with cache-thrashing
// neighbours on other CPUs, alternating so that drift hits both conditions.
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/kernel_table.hpp"
#include "bench/kernels.hpp"
#include "bench/pointer_chase.hpp"
#include "bench/statistics.hpp"
#include "probe/topology_writers.hpp"

namespace vpt {

// The cache-thrashing neighbours' shared switches.
struct Neighbours {
  std::atomic<bool> active{false};
  std::atomic<bool> stop{false};
  std::atomic<unsigned> ready{0};
};

namespace {

// Lets the neighbours evict what the chase had cached before noisy samples start.
constexpr auto kRampUp = std::chrono::milliseconds(5);

// Streams read-modify-writes over its own buffer, one per 64-byte line, while
// `active`; blocks (futex wait, no CPU use) while not.
void thrash(unsigned cpu, std::size_t bytes, Neighbours& shared, std::exception_ptr& error) {
  void* memory = MAP_FAILED;
  try {
    pin_this_thread(cpu);
    memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "cannot map the thrash buffer");
    auto* lines = static_cast<volatile std::uint64_t*>(memory);
    const std::size_t stride = kLineBytes / sizeof(std::uint64_t), count = bytes / sizeof(std::uint64_t);
    for (std::size_t i = 0; i < count; i += stride) lines[i] = i;  // first touch on its own node
    shared.ready.fetch_add(1);
    shared.ready.notify_all();
    auto running = [&] { return shared.active.load(std::memory_order_relaxed) && !shared.stop.load(std::memory_order_relaxed); };
    for (;;) {
      shared.active.wait(false);
      if (shared.stop.load()) break;
      // 4 KiB at a time between checks, so the neighbour stops promptly.
      while (running())
        for (std::size_t i = 0; i < count && running(); i += stride * 64)
          for (std::size_t j = i; j < i + stride * 64 && j < count; j += stride) lines[j] = lines[j] + 1;
    }
  } catch (...) {
    error = std::current_exception();
    shared.ready.fetch_add(1);
    shared.ready.notify_all();
  }
  if (memory != MAP_FAILED) munmap(memory, bytes);
}

}  // namespace

InterferenceSession::InterferenceSession(unsigned chase_cpu, const CpuSet& neighbour_cpus,
                                         const std::vector<std::size_t>& sizes, const InterferenceConfig& config)
    : chase_cpu_(chase_cpu), config_(config), sizes_(sizes), shared_(std::make_unique<Neighbours>()) {
  if (neighbour_cpus.empty())
    throw std::invalid_argument("cannot measure interference: no CPU for the neighbour");
  if (neighbour_cpus.contains(chase_cpu))
    throw std::invalid_argument(
        fmt::format("cannot measure interference on CPU {}: the neighbour CPUs '{}' include it", chase_cpu,
                    neighbour_cpus));
  require_usable_cpus(neighbour_cpus | CpuSet{chase_cpu});

  std::vector<unsigned> cpus = neighbour_cpus.to_vector();
  errors_.resize(cpus.size());
  for (std::size_t i = 0; i < cpus.size(); ++i)
    threads_.emplace_back(thrash, cpus[i], config.thrash_bytes, std::ref(*shared_), std::ref(errors_[i]));

  // The chase buffers, first touched on the chasing CPU.
  std::exception_ptr error;
  std::thread builder([&] {
    try {
      pin_this_thread(chase_cpu_);
      for (std::size_t bytes : sizes) buffers_.push_back(std::make_unique<ChaseBuffer>(bytes, config_.seed));
    } catch (...) {
      error = std::current_exception();
    }
  });
  builder.join();
  for (unsigned seen; (seen = shared_->ready.load()) < cpus.size();) shared_->ready.wait(seen);
  try {
    if (error) std::rethrow_exception(error);
    for (auto& e : errors_)
      if (e) std::rethrow_exception(e);
  } catch (...) {
    stop_neighbours();
    throw;
  }
}

InterferenceSession::~InterferenceSession() { stop_neighbours(); }

void InterferenceSession::stop_neighbours() {
  shared_->stop = true;
  shared_->active = true;  // wakes blocked neighbours so they see `stop`
  shared_->active.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void InterferenceSession::renew_buffer(std::size_t which, std::uint64_t seed) {
  std::exception_ptr error;
  // Kept until the session ends: the new buffer must get other pages than the old.
  if (buffers_.at(which)) retired_.push_back(std::move(buffers_[which]));
  std::thread builder([&] {
    try {
      pin_this_thread(chase_cpu_);
      buffers_[which] = std::make_unique<ChaseBuffer>(sizes_.at(which), seed);
    } catch (...) {
      error = std::current_exception();
    }
  });
  builder.join();
  if (error) std::rethrow_exception(error);
}

InterferenceSamples InterferenceSession::measure(std::size_t which, unsigned samples, unsigned phases) {
  InterferenceSamples out;
  std::exception_ptr error;
  ChaseBuffer& buffer = *buffers_.at(which);
  Neighbours& shared = *shared_;
  std::thread chase([&] {
    try {
      pin_this_thread(chase_cpu_);
      for (unsigned i = 0; i < config_.warmup_samples; ++i) buffer.ns_per_load(config_.loads_per_sample);
      phases = std::max(1u, phases);
      for (unsigned r = 0; r < phases; ++r) {
        // Spread samples evenly; the first phases take the remainder.
        unsigned n = samples / phases + (r < samples % phases ? 1 : 0);
        buffer.ns_per_load(config_.loads_per_sample);  // re-warm after the noisy phase
        for (unsigned i = 0; i < n; ++i) out.quiet_ns.push_back(buffer.ns_per_load(config_.loads_per_sample));
        shared.active = true;
        shared.active.notify_all();
        std::this_thread::sleep_for(kRampUp);
        for (unsigned i = 0; i < n; ++i) out.noisy_ns.push_back(buffer.ns_per_load(config_.loads_per_sample));
        shared.active = false;
      }
    } catch (...) {
      shared.active = false;
      error = std::current_exception();
    }
  });
  chase.join();
  if (error) std::rethrow_exception(error);
  for (auto& e : errors_)
    if (e) std::rethrow_exception(e);
  return out;
}

InterferenceSamples measure_interference(unsigned chase_cpu, const CpuSet& neighbour_cpus, std::size_t bytes,
                                         const InterferenceConfig& config) {
  InterferenceSession session(chase_cpu, neighbour_cpus, {bytes}, config);
  return session.measure(0, config.samples, config.rounds);
}

// ---- The kernel table's entry -------------------------------------------------

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;
constexpr unsigned kMaxNeighbours = 8;
constexpr std::uint64_t kFreshBufferMaxBytes = 16 * MiB;  // see memory_latency.cpp

struct InterferenceSettings {
  unsigned samples_per_condition;  // all rounds
  std::uint64_t loads_per_sample;
};

InterferenceSettings interference_settings(bool quick) {
  return quick ? InterferenceSettings{30, 1u << 15} : InterferenceSettings{60, 1u << 18};
}

// --neighbour-cpus, else the domain's emulator/iothread CPUs outside its
// vCPUs', else a CPU outside the measured ones, else one outside the chasing
// CPU's core (an SMT sibling would measure core sharing instead), else any
// other. Never the chasing CPU itself.
CpuSet choose_neighbours(const RunContext& ctx, unsigned chase_cpu) {
  CpuSet neighbours = ctx.options.neighbour_cpus;
  if (neighbours.empty()) {
    CpuSet candidates = ctx.domain ? (ctx.helper_cpus & ctx.usable) - ctx.guest_cpus : CpuSet{};
    if (candidates.empty()) candidates = ctx.usable - ctx.measured;
    if (candidates.empty()) {
      candidates = ctx.usable - smt_siblings(ctx.host, chase_cpu);
      if (candidates.empty()) candidates = ctx.usable - CpuSet{chase_cpu};
    }
    for (unsigned cpu : candidates) {
      if (neighbours.size() >= (ctx.domain ? kMaxNeighbours : 1u)) break;
      neighbours.insert(cpu);
    }
  }
  neighbours.erase(chase_cpu);
  return neighbours;
}

// The neighbours and the chase buffers live for the whole run (touching a
// thrash buffer of twice the L3 every round would cost more than measuring).
class InterferenceRun final : public KernelRun {
 public:
  InterferenceRun(const RunContext& ctx, Interference interference, std::uint64_t loads_per_sample)
      : ctx_(ctx), itf_(std::move(interference)) {
    config_.loads_per_sample = loads_per_sample;
    config_.thrash_bytes = itf_.method.thrash_bytes;
  }

  void round(unsigned index) override {
    if (itf_.points.empty() || !itf_.points.front().error.empty()) {
      for (InterferencePoint& p : itf_.points) {
        p.quiet_samples_ns.rounds.emplace_back();
        p.noisy_samples_ns.rounds.emplace_back();
      }
      return;
    }
    const InterferencePoint& first = itf_.points.front();
    ctx_.progress(fmt::format("round {}/{}: interference on CPU {}, neighbour on {}", index + 1, ctx_.rounds,
                              first.cpu, first.neighbour_cpus));
    if (!session_) {
      std::vector<std::size_t> sizes;
      for (const InterferencePoint& p : itf_.points) sizes.push_back(p.bytes);
      try {
        session_ = std::make_unique<InterferenceSession>(first.cpu, first.neighbour_cpus, sizes, config_);
      } catch (const BenchInputError&) {
        throw;
      } catch (const std::exception& e) {
        for (InterferencePoint& p : itf_.points) p.error = e.what();
      }
    }
    const unsigned n = share_of_round(itf_.method.samples_per_condition, ctx_.rounds, index);
    for (std::size_t i = 0; i < itf_.points.size(); ++i) {
      InterferencePoint& p = itf_.points[i];
      std::vector<double>& quiet = p.quiet_samples_ns.rounds.emplace_back();
      std::vector<double>& noisy = p.noisy_samples_ns.rounds.emplace_back();
      if (!p.error.empty()) continue;
      try {
        // As for memory latency: an L2-sized set's cache-set luck is one
        // allocation's; a new one each round makes the rounds replicates.
        if (index > 0 && p.bytes <= kFreshBufferMaxBytes) session_->renew_buffer(i, config_.seed + index);
        InterferenceSamples s = session_->measure(i, n, itf_.method.phases_per_round);
        quiet = std::move(s.quiet_ns);
        noisy = std::move(s.noisy_ns);
      } catch (const std::exception& e) {
        p.error = e.what();
      }
    }
  }

  void finish(Results& results) override {
    session_.reset();
    for (InterferencePoint& p : itf_.points) {
      p.quiet_ns = median(p.quiet_samples_ns.pooled());
      p.noisy_ns = median(p.noisy_samples_ns.pooled());
      if (p.quiet_ns && p.noisy_ns && *p.quiet_ns > 0) p.ratio = *p.noisy_ns / *p.quiet_ns;
    }
    results.interference = std::move(itf_);
  }

 private:
  const RunContext& ctx_;
  Interference itf_;
  InterferenceConfig config_;
  std::unique_ptr<InterferenceSession> session_;
};

std::unique_ptr<KernelRun> start(const RunContext& ctx, Results& results) {
  const InterferenceSettings s = interference_settings(ctx.options.quick);
  const unsigned chase_cpu = ctx.measured.first();
  const CpuSet neighbours = choose_neighbours(ctx, chase_cpu);
  std::uint64_t largest_cache = 0;
  std::optional<std::uint64_t> l2, l3;
  for (const CacheSize& c : results.host.caches) {
    largest_cache = std::max(largest_cache, c.size_bytes);
    if (c.level == 2) l2 = c.size_bytes;
    if (c.level == 3) l3 = c.size_bytes;
  }
  Interference itf;
  itf.method = {s.samples_per_condition, 1, std::max<std::uint64_t>(64 * MiB, 2 * largest_cache)};
  // Three quarters of a cache: fits with room for page tables and the stack.
  std::vector<std::pair<std::uint64_t, std::string>> working_sets;
  if (l2) working_sets.push_back({*l2 * 3 / 4, "L2"});
  if (l3) working_sets.push_back({*l3 * 3 / 4, "L3"});
  else working_sets.push_back({8 * MiB, "8 MiB (L3 size unknown)"});
  for (const auto& [bytes, sized_to] : working_sets) {
    InterferencePoint p;
    p.bytes = bytes;
    p.sized_to = sized_to;
    p.cpu = chase_cpu;
    p.neighbour_cpus = neighbours;
    if (neighbours.empty()) p.error = fmt::format("no usable CPU other than {} for the neighbour", chase_cpu);
    itf.points.push_back(std::move(p));
  }
  return std::make_unique<InterferenceRun>(ctx, std::move(itf), s.loads_per_sample);
}

void write(const Results& results, Json& doc) {
  if (!results.interference) {
    doc["interference"] = nullptr;
    return;
  }
  const Interference& itf = *results.interference;
  Json points = Json::array();
  for (const InterferencePoint& p : itf.points) {
    Json row = {{"bytes", p.bytes},
                {"sized_to", p.sized_to},
                {"cpu", p.cpu},
                {"neighbour_cpus", p.neighbour_cpus.to_string()},
                {"quiet_ns", json_or_null(p.quiet_ns)},
                {"noisy_ns", json_or_null(p.noisy_ns)},
                {"ratio", json_or_null(p.ratio)},
                {"quiet_samples_ns", round_samples_json(p.quiet_samples_ns)},
                {"noisy_samples_ns", round_samples_json(p.noisy_samples_ns)}};
    put_error(row, p.error);
    points.push_back(std::move(row));
  }
  doc["interference"] = {{"method",
                          {{"samples_per_condition", itf.method.samples_per_condition},
                           {"phases_per_round", itf.method.phases_per_round},
                           {"thrash_bytes", itf.method.thrash_bytes}}},
                         {"points", std::move(points)}};
}

void read(const ResultsReader& r, const Json& doc, Results& results) {
  const Json* section = r.find(doc, "interference");
  if (!section) return;
  const bool v1 = r.version1();
  Interference itf;
  const Json& method = v1 ? r.at(r.at(doc, "method", ""), "interference", "method") : r.at(*section, "method", "interference");
  const std::string mp = v1 ? "method.interference" : "interference.method";
  itf.method.samples_per_condition = r.field<unsigned>(method, "samples_per_condition", mp);
  itf.method.phases_per_round = r.field<unsigned>(method, v1 ? "rounds" : "phases_per_round", mp);
  itf.method.thrash_bytes = r.field<std::uint64_t>(method, "thrash_bytes", mp);
  const Json& points = v1 ? *section : r.array(*section, "points", "interference");
  const std::string pp = v1 ? "interference" : "interference.points";
  if (!points.is_array()) r.fail(pp, fmt::format("expected an array, found {}", points.type_name()));
  for (std::size_t i = 0; i < points.size(); ++i) {
    std::string p = ResultsReader::index(pp, i);
    const Json& j = points[i];
    InterferencePoint pt;
    pt.bytes = r.field<std::uint64_t>(j, "bytes", p);
    pt.sized_to = r.text_or_empty(j, "sized_to", p);
    pt.cpu = r.cpu(j, "cpu", p);
    pt.neighbour_cpus = r.cpus(j, "neighbour_cpus", p);
    pt.quiet_ns = r.optional<double>(j, "quiet_ns", p);
    pt.noisy_ns = r.optional<double>(j, "noisy_ns", p);
    pt.ratio = r.optional<double>(j, "ratio", p);
    pt.quiet_samples_ns = r.round_samples(j, "quiet_samples_ns", p);
    pt.noisy_samples_ns = r.round_samples(j, "noisy_samples_ns", p);
    pt.error = r.text_or_empty(j, "error", p);
    itf.points.push_back(std::move(pt));
  }
  results.interference = std::move(itf);
}

void series(const Results& results, std::vector<Series>& out) {
  if (!results.interference) return;
  for (const InterferencePoint& p : results.interference->points) {
    std::string label = fmt::format("interference {}", format_bytes(p.bytes));
    out.push_back({label + " quiet", "ns", Series::Statistic::Median, p.quiet_samples_ns, {}, 0});
    out.push_back({label + " noisy", "ns", Series::Statistic::Median, p.noisy_samples_ns, {}, 0});
    out.push_back({label + " ratio", "x", Series::Statistic::Ratio, p.quiet_samples_ns, p.noisy_samples_ns, 0});
  }
}

std::string num(std::optional<double> v, int decimals) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : std::string("n/a");
}

void write_text(std::ostream& out, const Results& results) {
  if (!results.interference) return;
  const Interference& itf = *results.interference;
  fmt::print(out, "\nInterference: median ns per load, quiet vs cache-thrashing neighbour, n={} per condition in {} "
                  "rounds\n",
             itf.method.samples_per_condition, results.rounds);
  for (const InterferencePoint& p : itf.points) {
    fmt::print(out, "  {:>10} ({}) on CPU {}, neighbour on {}: ", format_bytes(p.bytes), p.sized_to, p.cpu,
               p.neighbour_cpus.empty() ? "none" : p.neighbour_cpus.to_string());
    if (!p.error.empty()) {
      fmt::print(out, "{}\n", p.error);
      continue;
    }
    fmt::print(out, "quiet {} ns, noisy {} ns, ratio {}\n", num(p.quiet_ns, 1), num(p.noisy_ns, 1), num(p.ratio, 2));
  }
}

}  // namespace

const Kernel kInterferenceKernel{
    "interference",
    "cache interference: the pointer chase at 3/4 of L2 and L3, alone and while a neighbour thrashes the cache from "
    "the host's or the emulator's CPUs (slowdown ratio)",
    start, write, read, series, write_text};

}  // namespace vpt
