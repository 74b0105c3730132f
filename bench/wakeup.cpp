// Wake-up latency, cyclictest-style: how late a thread wakes from an absolute
// deadline on the CPU under test.
#include <sys/prctl.h>
#include <time.h>

#include <cerrno>
#include <exception>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "bench/kernel_table.hpp"
#include "bench/kernels.hpp"
#include "bench/statistics.hpp"

namespace vpt {

namespace {

constexpr long kNsPerSec = 1'000'000'000;

void add_ns(timespec& t, long ns) {
  t.tv_nsec += ns;
  while (t.tv_nsec >= kNsPerSec) {
    t.tv_nsec -= kNsPerSec;
    ++t.tv_sec;
  }
}

double diff_us(const timespec& later, const timespec& earlier) {
  return static_cast<double>(later.tv_sec - earlier.tv_sec) * 1e6 +
         static_cast<double>(later.tv_nsec - earlier.tv_nsec) / 1e3;
}

std::vector<double> wake_loop(unsigned cpu, const WakeupConfig& config) {
  pin_this_thread(cpu);
  // SCHED_OTHER threads get 50 us of timer slack by default; that would be
  // measured as lateness. RT threads (cyclictest -p) have none.
  if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot set timer slack");
  const long interval_ns = static_cast<long>(config.interval.count()) * 1000;
  std::vector<double> lateness;
  lateness.reserve(config.count);
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  add_ns(deadline, interval_ns);
  for (unsigned i = 0; i < config.warmup + config.count; ++i) {
    int err;
    while ((err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr)) == EINTR) {
    }
    if (err != 0) throw std::system_error(err, std::generic_category(), "cannot sleep with clock_nanosleep");
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (i >= config.warmup) lateness.push_back(diff_us(now, deadline));
    add_ns(deadline, interval_ns);
    // Woke later than the next deadline: skip the missed ones, as cyclictest does.
    while (diff_us(now, deadline) > 0) add_ns(deadline, interval_ns);
  }
  return lateness;
}

}  // namespace

std::vector<std::vector<double>> measure_wakeup(const std::vector<unsigned>& cpus, const WakeupConfig& config) {
  CpuSet set;
  for (unsigned cpu : cpus) set.insert(cpu);
  require_usable_cpus(set);
  std::vector<std::vector<double>> results(cpus.size());
  std::vector<std::exception_ptr> errors(cpus.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < cpus.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        results[i] = wake_loop(cpus[i], config);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

// ---- The kernel table's entry -------------------------------------------------

namespace {

constexpr unsigned kWarmupPerRound = 10;

class WakeupRun final : public KernelRun {
 public:
  WakeupRun(const RunContext& ctx, Wakeup wakeup) : ctx_(ctx), wakeup_(std::move(wakeup)) {}

  void round(unsigned index) override {
    WakeupConfig config;
    config.count = share_of_round(wakeup_.method.count, ctx_.rounds, index);
    config.warmup = wakeup_.method.warmup_per_round;
    config.interval = std::chrono::microseconds(wakeup_.method.interval_us);
    ctx_.progress(fmt::format("round {}/{}: wake-up latency on CPUs {} ({} wake-ups, {} us apart)", index + 1,
                              ctx_.rounds, ctx_.measured, config.count, wakeup_.method.interval_us));
    std::vector<unsigned> cpus;
    for (const WakeupResult& w : wakeup_.cpus) cpus.push_back(w.cpu);
    std::vector<std::vector<double>> lateness;
    std::string error;
    try {
      lateness = measure_wakeup(cpus, config);
    } catch (const BenchInputError&) {
      throw;
    } catch (const std::exception& e) {
      error = e.what();
      lateness.assign(cpus.size(), {});
    }
    for (std::size_t i = 0; i < cpus.size(); ++i) {
      wakeup_.cpus[i].samples_us.rounds.push_back(std::move(lateness[i]));
      if (!error.empty() && wakeup_.cpus[i].error.empty()) wakeup_.cpus[i].error = error;
    }
  }

  void finish(Results& results) override {
    for (WakeupResult& w : wakeup_.cpus) {
      std::vector<double> all = w.samples_us.pooled();
      w.p50_us = quantile(all, 0.5);
      w.p99_us = quantile(all, 0.99);
      w.max_us = maximum(all);
    }
    results.wakeup = std::move(wakeup_);
  }

 private:
  const RunContext& ctx_;
  Wakeup wakeup_;
};

std::unique_ptr<KernelRun> start(const RunContext& ctx, Results&) {
  Wakeup wakeup;
  wakeup.method = {ctx.options.quick ? 1000u : 5000u, kWarmupPerRound, 1000, "SCHED_OTHER, timer slack 1 ns"};
  for (unsigned cpu : ctx.measured) wakeup.cpus.push_back({cpu, {}, {}, {}, {}, ""});
  return std::make_unique<WakeupRun>(ctx, std::move(wakeup));
}

Json row_json(const WakeupResult& w) {
  Json row = {{"cpu", w.cpu},
              {"p50_us", json_or_null(w.p50_us)},
              {"p99_us", json_or_null(w.p99_us)},
              {"max_us", json_or_null(w.max_us)},
              {"samples_us", round_samples_json(w.samples_us)}};
  put_error(row, w.error);
  return row;
}

void write(const Results& results, Json& doc) {
  if (!results.wakeup) {
    doc["wakeup"] = nullptr;
    return;
  }
  const Wakeup& w = *results.wakeup;
  Json cpus = Json::array();
  for (const WakeupResult& row : w.cpus) cpus.push_back(row_json(row));
  doc["wakeup"] = {{"method",
                    {{"count", w.method.count},
                     {"warmup_per_round", w.method.warmup_per_round},
                     {"interval_us", w.method.interval_us},
                     {"policy", w.method.policy}}},
                   {"cpus", std::move(cpus)}};
}

WakeupResult read_row(const ResultsReader& r, const Json& j, const std::string& p) {
  WakeupResult w;
  w.cpu = r.cpu(j, "cpu", p);
  w.p50_us = r.optional<double>(j, "p50_us", p);
  w.p99_us = r.optional<double>(j, "p99_us", p);
  w.max_us = r.optional<double>(j, "max_us", p);
  w.samples_us = r.round_samples(j, "samples_us", p);
  w.error = r.text_or_empty(j, "error", p);
  return w;
}

void read(const ResultsReader& r, const Json& doc, Results& results) {
  Wakeup w;
  if (r.version1()) {
    // bench/1: "wakeup" = the first CPU, "wakeup_by_cpu" = all; the method in "method".
    const Json& method = r.at(r.at(doc, "method", ""), "wakeup", "method");
    w.method.count = r.field<unsigned>(method, "count", "method.wakeup");
    w.method.warmup_per_round = r.field<unsigned>(method, "warmup_discarded", "method.wakeup");
    w.method.interval_us = r.field<unsigned>(method, "interval_us", "method.wakeup");
    w.method.policy = r.field<std::string>(method, "policy", "method.wakeup");
    if (const Json* all = r.find(doc, "wakeup_by_cpu")) {
      if (!all->is_array()) r.fail("wakeup_by_cpu", "expected an array");
      for (std::size_t i = 0; i < all->size(); ++i)
        w.cpus.push_back(read_row(r, (*all)[i], ResultsReader::index("wakeup_by_cpu", i)));
    } else if (const Json* one = r.find(doc, "wakeup")) {
      w.cpus.push_back(read_row(r, *one, "wakeup"));
    }
    if (!w.cpus.empty()) results.wakeup = std::move(w);
    return;
  }
  const Json* section = r.find(doc, "wakeup");
  if (!section) return;
  const Json& method = r.at(*section, "method", "wakeup");
  w.method.count = r.field<unsigned>(method, "count", "wakeup.method");
  w.method.warmup_per_round = r.field<unsigned>(method, "warmup_per_round", "wakeup.method");
  w.method.interval_us = r.field<unsigned>(method, "interval_us", "wakeup.method");
  w.method.policy = r.field<std::string>(method, "policy", "wakeup.method");
  const Json& cpus = r.array(*section, "cpus", "wakeup");
  for (std::size_t i = 0; i < cpus.size(); ++i) w.cpus.push_back(read_row(r, cpus[i], ResultsReader::index("wakeup.cpus", i)));
  results.wakeup = std::move(w);
}

void series(const Results& results, std::vector<Series>& out) {
  if (!results.wakeup || results.wakeup->cpus.empty()) return;
  RoundSamples all;
  for (const WakeupResult& w : results.wakeup->cpus) all.append(w.samples_us);
  out.push_back({"wake-up lateness, all measured CPUs", "us", Series::Statistic::Median, all, {}, 0});
  // The tail is what a latency-sensitive guest feels; test it, not only the median.
  out.push_back({"wake-up lateness p99, all measured CPUs", "us", Series::Statistic::P99, all, {}, 0});
  if (results.wakeup->cpus.size() > 1)
    for (const WakeupResult& w : results.wakeup->cpus)
      out.push_back({fmt::format("wake-up lateness CPU {}", w.cpu), "us", Series::Statistic::Median, w.samples_us,
                     {}, 0});
}

std::string na_with_n(std::optional<double> v, std::size_t n) {
  return v ? fmt::format("{:.1f}", *v) : fmt::format("n/a (n={})", n);
}

void write_text(std::ostream& out, const Results& results) {
  if (!results.wakeup) return;
  const Wakeup& w = *results.wakeup;
  fmt::print(out, "\nWake-up lateness ({}, {} us period, {} wake-ups per CPU in {} rounds): us\n", w.method.policy,
             w.method.interval_us, w.method.count, results.rounds);
  for (const WakeupResult& row : w.cpus) {
    if (!row.error.empty()) {
      fmt::print(out, "  CPU {}: {}\n", row.cpu, row.error);
      continue;
    }
    const std::size_t n = row.samples_us.count();
    fmt::print(out, "  CPU {:<4} p50 {:>8}  p99 {:>8}  max {:>8}\n", row.cpu, na_with_n(row.p50_us, n),
               na_with_n(row.p99_us, n), row.max_us ? fmt::format("{:.1f}", *row.max_us) : "n/a");
  }
}

}  // namespace

const Kernel kWakeupKernel{
    "wakeup",
    "wake-up latency: how late a thread pinned to each measured CPU wakes from an absolute-deadline sleep "
    "(cyclictest-style), p50/p99/max",
    start, write, read, series, write_text};

}  // namespace vpt
