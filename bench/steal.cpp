// Steal from the host's side: the vCPU threads' run-queue wait per second of
// wall time, from /proc/PID/task/TID/schedstat; and the kernel table's entry,
// which samples it in a quiet window of every round.
#include "bench/steal.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "bench/kernel_table.hpp"
#include "bench/statistics.hpp"

namespace vpt {

std::optional<SchedStat> read_schedstat(int pid, int tid, const ProcPaths& paths) {
  std::ifstream in(fmt::format("{}/{}/task/{}/schedstat", paths.proc, pid, tid));
  SchedStat s;
  if (!(in >> s.run_ns >> s.wait_ns >> s.timeslices)) return std::nullopt;
  return s;
}

StealSampler::StealSampler(int pid, std::vector<QemuThread> vcpu_threads, std::chrono::milliseconds interval,
                           ProcPaths paths)
    : pid_(pid), threads_(std::move(vcpu_threads)), interval_(interval), paths_(std::move(paths)) {
  for (const QemuThread& t : threads_) {
    VcpuSteal v;
    v.vcpu = t.index.value_or(0);
    v.tid = t.tid;
    v.wait_percent.rounds.emplace_back();
    v.run_percent.rounds.emplace_back();
    vcpus_.push_back(std::move(v));
  }
  first_timeslices_.assign(threads_.size(), 0);
}

StealSampler::~StealSampler() { stop(); }

StealReading StealSampler::read() const {
  StealReading r;
  r.when = std::chrono::steady_clock::now();
  for (const QemuThread& t : threads_) r.threads.push_back(read_schedstat(pid_, t.tid, paths_));
  return r;
}

void StealSampler::add_sample(const StealReading& before, const StealReading& after) {
  const double wall_ns = std::chrono::duration<double, std::nano>(after.when - before.when).count();
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < vcpus_.size(); ++i) {
    VcpuSteal& v = vcpus_[i];
    const auto &b = before.threads[i], &a = after.threads[i];
    if (!b || !a || a->wait_ns < b->wait_ns || a->run_ns < b->run_ns || wall_ns <= 0) {
      if (v.error.empty())
        v.error = fmt::format("thread {} ended or its schedstat could not be read", v.tid);
      continue;
    }
    v.wait_percent.rounds.back().push_back(100.0 * static_cast<double>(a->wait_ns - b->wait_ns) / wall_ns);
    v.run_percent.rounds.back().push_back(100.0 * static_cast<double>(a->run_ns - b->run_ns) / wall_ns);
    v.timeslices += a->timeslices - std::min(a->timeslices, b->timeslices);
  }
}

void StealSampler::sample() {
  StealReading before = read();
  std::this_thread::sleep_for(interval_);
  add_sample(before, read());
}

void StealSampler::start_round() {
  std::lock_guard lock(mutex_);
  for (VcpuSteal& v : vcpus_) {
    v.wait_percent.rounds.emplace_back();
    v.run_percent.rounds.emplace_back();
  }
}

void StealSampler::start() {
  on_thread_ = true;
  stop_ = false;
  thread_ = std::thread([this] {
    StealReading previous = read();
    while (!stop_) {
      // Short naps, so that stop() returns promptly.
      const auto until = previous.when + interval_;
      while (!stop_ && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(interval_, std::chrono::milliseconds(10)));
      if (stop_) break;
      StealReading now = read();
      add_sample(previous, now);
      previous = std::move(now);
    }
  });
}

void StealSampler::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

StealWindow StealSampler::window(std::string kind, std::string chosen, unsigned rounds) const {
  StealWindow w;
  w.kind = std::move(kind);
  w.chosen = std::move(chosen);
  w.sample_s = std::chrono::duration<double>(interval_).count();
  {
    std::lock_guard lock(mutex_);
    w.vcpus = vcpus_;
  }
  std::size_t samples = 0;
  for (VcpuSteal& v : w.vcpus) {
    samples = std::max(samples, v.wait_percent.count());
    if (!on_thread_ || rounds <= 1) continue;
    v.wait_percent = RoundSamples::split(v.wait_percent.pooled(), rounds);
    v.run_percent = RoundSamples::split(v.run_percent.pooled(), rounds);
  }
  w.total_s = static_cast<double>(samples) * w.sample_s;
  return w;
}

// ---- The kernel table's entry -------------------------------------------------

namespace {

constexpr auto kStealInterval = std::chrono::milliseconds(100);

std::vector<QemuThread> vcpu_threads(const std::vector<QemuThread>& threads) {
  std::vector<QemuThread> out;
  for (const QemuThread& t : threads)
    if (t.kind == ThreadKind::Vcpu) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const QemuThread& a, const QemuThread& b) { return a.index < b.index; });
  return out;
}

class StealRun final : public KernelRun {
 public:
  StealRun(const RunContext& ctx, std::vector<QemuThread> vcpus, unsigned samples_per_round)
      : ctx_(ctx), sampler_(*ctx.qemu_pid, std::move(vcpus), kStealInterval), samples_per_round_(samples_per_round) {}

  void round(unsigned index) override {
    ctx_.progress(fmt::format("round {}/{}: steal of the vCPU threads, {:.1f} s with nothing of vpt-tune running",
                              index + 1, ctx_.rounds,
                              samples_per_round_ * std::chrono::duration<double>(kStealInterval).count()));
    if (index > 0) sampler_.start_round();
    for (unsigned i = 0; i < samples_per_round_; ++i) sampler_.sample();
  }

  void finish(Results& results) override {
    const double per_round = samples_per_round_ * std::chrono::duration<double>(kStealInterval).count();
    std::string chosen = fmt::format(
        "quiet: {:.1f} s at the end of each of the {} rounds, while vpt-tune ran nothing, in {} ms samples; it shows "
        "what the guest's own load suffers from the host's other work (an idle vCPU does not run, so cannot wait: "
        "see run %)",
        per_round, ctx_.rounds, kStealInterval.count());
    if (!results.steal) results.steal.emplace();
    results.steal->windows.insert(results.steal->windows.begin(),
                                  sampler_.window("quiet", std::move(chosen), ctx_.rounds));
  }

 private:
  const RunContext& ctx_;
  StealSampler sampler_;
  unsigned samples_per_round_;
};

std::unique_ptr<KernelRun> start(const RunContext& ctx, Results&) {
  if (!ctx.qemu_pid) return nullptr;  // no domain, or its QEMU is elsewhere (the runner warned)
  std::vector<QemuThread> vcpus = vcpu_threads(ctx.threads);
  if (vcpus.empty()) return nullptr;
  return std::make_unique<StealRun>(ctx, std::move(vcpus), ctx.options.quick ? 3u : 10u);
}

void write(const Results& results, Json& doc) {
  if (!results.steal) {
    doc["steal"] = nullptr;
    return;
  }
  Json windows = Json::array();
  for (const StealWindow& w : results.steal->windows) {
    Json vcpus = Json::array();
    for (const VcpuSteal& v : w.vcpus) {
      Json row = {{"vcpu", v.vcpu},
                  {"tid", v.tid},
                  {"median_wait_percent", json_or_null(median(v.wait_percent.pooled()))},
                  {"median_run_percent", json_or_null(median(v.run_percent.pooled()))},
                  {"timeslices", v.timeslices},
                  {"wait_percent", round_samples_json(v.wait_percent)},
                  {"run_percent", round_samples_json(v.run_percent)}};
      put_error(row, v.error);
      vcpus.push_back(std::move(row));
    }
    windows.push_back({{"kind", w.kind},
                       {"chosen", w.chosen},
                       {"sample_s", w.sample_s},
                       {"total_s", w.total_s},
                       {"vcpus", std::move(vcpus)}});
  }
  doc["steal"] = {{"source", "/proc/PID/task/TID/schedstat: run-queue wait and run time per wall time"},
                  {"windows", std::move(windows)}};
}

void read(const ResultsReader& r, const Json& doc, Results& results) {
  const Json* section = r.find(doc, "steal");
  if (!section) return;  // bench/1 had none
  Steal steal;
  const Json& windows = r.array(*section, "windows", "steal");
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const std::string wp = ResultsReader::index("steal.windows", i);
    StealWindow w;
    w.kind = r.field<std::string>(windows[i], "kind", wp);
    w.chosen = r.text_or_empty(windows[i], "chosen", wp);
    w.sample_s = r.field<double>(windows[i], "sample_s", wp);
    w.total_s = r.field<double>(windows[i], "total_s", wp);
    const Json& vcpus = r.array(windows[i], "vcpus", wp);
    for (std::size_t k = 0; k < vcpus.size(); ++k) {
      const std::string vp = ResultsReader::index(wp + ".vcpus", k);
      VcpuSteal v;
      v.vcpu = r.field<unsigned>(vcpus[k], "vcpu", vp);
      v.tid = r.field<int>(vcpus[k], "tid", vp);
      v.timeslices = r.field<std::uint64_t>(vcpus[k], "timeslices", vp);
      v.wait_percent = r.round_samples(vcpus[k], "wait_percent", vp);
      v.run_percent = r.round_samples(vcpus[k], "run_percent", vp);
      v.error = r.text_or_empty(vcpus[k], "error", vp);
      w.vcpus.push_back(std::move(v));
    }
    steal.windows.push_back(std::move(w));
  }
  results.steal = std::move(steal);
}

std::string window_label(const StealWindow& w) {
  return w.kind == "quiet" ? "quiet host" : w.kind == "guest probe" ? "guest busy (in-guest probe)" : w.kind;
}

void series(const Results& results, std::vector<Series>& out) {
  if (!results.steal) return;
  for (const StealWindow& w : results.steal->windows) {
    RoundSamples all;
    for (const VcpuSteal& v : w.vcpus) {
      out.push_back({fmt::format("steal vCPU {}, {}", v.vcpu, window_label(w)), "%", Series::Statistic::Median,
                     v.wait_percent, {}, 0});
      all.append(v.wait_percent);
    }
    if (w.vcpus.size() > 1)
      out.push_back({fmt::format("steal, all vCPUs, {}", window_label(w)), "%", Series::Statistic::Median,
                     std::move(all), {}, 0});
  }
}

std::string percent(std::optional<double> v) { return v ? fmt::format("{:.1f}%", *v) : std::string("n/a"); }

void write_text(std::ostream& out, const Results& results) {
  if (!results.steal) return;
  fmt::print(out, "\nSteal: each vCPU thread's wait for a host CPU per second of wall time "
                  "(/proc/PID/task/TID/schedstat)\n");
  for (const StealWindow& w : results.steal->windows) {
    fmt::print(out, "  {}, {:.1f} s in {:.1f} s samples: {}\n", window_label(w), w.total_s, w.sample_s, w.chosen);
    for (const VcpuSteal& v : w.vcpus) {
      if (!v.error.empty() && v.wait_percent.empty()) {
        fmt::print(out, "    vCPU {} (thread {}): {}\n", v.vcpu, v.tid, v.error);
        continue;
      }
      std::vector<double> wait = v.wait_percent.pooled(), run = v.run_percent.pooled();
      fmt::print(out, "    vCPU {} (thread {}): waited {} (median; max {}), ran {} of the time, {} timeslices\n",
                 v.vcpu, v.tid, percent(median(wait)), percent(maximum(wait)), percent(median(run)), v.timeslices);
    }
  }
}

}  // namespace

const Kernel kStealKernel{
    "steal",
    "steal from the host's side: how long each vCPU thread waited on a host run queue per second of wall time "
    "(/proc/PID/task/TID/schedstat), for any running guest",
    start, write, read, series, write_text};

}  // namespace vpt
