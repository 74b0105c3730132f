/* vpt-guest-probe: what a guest feels of its vCPUs' placement, measured inside
 * the guest. One C file for Linux (built static) and Windows (MinGW-w64,
 * PE32+); the operating system's part is in platform.h. vpt-tune copies it
 * into the guest and runs it (bench --domain); its output is a line protocol
 * documented in guest/README.md and read by bench/guest_probe.cpp.
 *
 * Kernels, interleaved in rounds (each round takes its share of every
 * kernel's samples, so that a disturbance moves one round, not a kernel):
 *   c2c     one cache line bounced between a thread pinned to vCPU A and one
 *           pinned to vCPU B; a sample is the time of K round trips / K. K is
 *           calibrated in the first round: 1 when a round trip takes
 *           milliseconds (both vCPUs on one host CPU), more when it takes
 *           microseconds, so that reading the clock stays below 2% of a sample.
 *   chase   a dependent pointer chase over a random cyclic permutation, one
 *           node per 64-byte line, ns per load.
 *   wakeup  one thread per CPU sleeping to absolute deadlines every interval
 *           (Linux: clock_nanosleep TIMER_ABSTIME, timer slack 1 ns; Windows:
 *           a high-resolution waitable timer, QueryPerformanceCounter): how
 *           late each wake-up is, which is what players feel as stutter.
 */
#include "platform.h"

#include <stdatomic.h>

#define PROBE_VERSION 2
#define MAX_ROUNDS 50
#define MAX_WAKE_THREADS 64

static double g_timer_ns;

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Type-7 quantile (as vpt-tune's statistics) of a copy of the samples; 0 for none. */
static double quantile(const double* samples, int n, double q) {
  if (n <= 0) return 0;
  double* sorted = malloc(sizeof(double) * (size_t)n);
  if (!sorted) return 0;
  memcpy(sorted, samples, sizeof(double) * (size_t)n);
  qsort(sorted, (size_t)n, sizeof(double), cmp_double);
  double h = (n - 1) * q;
  int lo = (int)h;
  double v = lo + 1 >= n ? sorted[n - 1] : sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
  free(sorted);
  return v;
}

static void print_list(const char* format, const double* samples, int n) {
  for (int i = 0; i < n; ++i) {
    if (i) putchar(',');
    printf(format, samples[i]);
  }
  putchar('\n');
}

static int share(int total, int rounds, int round) { return total / rounds + (round < total % rounds ? 1 : 0); }

/* ---- c2c ---- */

/* The line both threads write, alone in its 64-byte line. Odd: a ping waits
 * for its reply; even: replied. `stop` ends the responder. */
struct line {
  _Alignas(64) _Atomic uint64_t seq;
  char pad[64 - sizeof(uint64_t)];
};
static struct line g_line;
static _Atomic int g_stop;
static _Atomic int g_responder_ready;
static int g_responder_cpu;
static int g_responder_error;

static void* responder(void* arg) {
  (void)arg;
  g_responder_error = pin_self(g_responder_cpu);
  atomic_store(&g_responder_ready, 1);
  if (g_responder_error) return NULL;
  uint64_t seen = 0;
  while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
    uint64_t v = atomic_load_explicit(&g_line.seq, memory_order_acquire);
    if ((v & 1) && v != seen) {
      seen = v + 1;
      atomic_store_explicit(&g_line.seq, v + 1, memory_order_release);
    } else {
      cpu_relax();
    }
  }
  return NULL;
}

/* k round trips; the elapsed ns, or -1 when a reply takes over `limit_ns`. */
static double round_trips(int k, double limit_ns) {
  double start = now_ns();
  for (int i = 0; i < k; ++i) {
    uint64_t v = atomic_load_explicit(&g_line.seq, memory_order_relaxed) + 1; /* odd */
    atomic_store_explicit(&g_line.seq, v, memory_order_release);
    unsigned spins = 0;
    while (atomic_load_explicit(&g_line.seq, memory_order_acquire) != v + 1) {
      cpu_relax();
      if (++spins % 4096 == 0 && now_ns() - start > limit_ns) return -1;
    }
  }
  return now_ns() - start;
}

struct pair {
  int a, b;
  int round_trips_per_sample; /* 0 until calibrated */
  const char* error;          /* set once: later rounds skip the pair */
  char error_text[160];
};

/* One round of pair p: between min_samples and max_samples samples within budget_ms. */
static void c2c_round(struct pair* p, int round, double budget_ms, int min_samples, int max_samples) {
  char buffer[128];
  const int warmup = 2;
  if (p->error) return;
  double* samples = malloc(sizeof(double) * (size_t)(max_samples > 0 ? max_samples : 1));
  if (!samples) {
    p->error = "cannot allocate";
    printf("c2c cpus=%d,%d round=%d error=%s\n", p->a, p->b, round, p->error);
    return;
  }
  int err = pin_self(p->a);
  if (err) {
    snprintf(p->error_text, sizeof p->error_text, "cannot pin to CPU %d: %s", p->a,
             error_text(err, buffer, sizeof buffer));
    p->error = p->error_text;
    printf("c2c cpus=%d,%d round=%d error=%s\n", p->a, p->b, round, p->error);
    free(samples);
    return;
  }
  atomic_store(&g_line.seq, 0);
  atomic_store(&g_stop, 0);
  atomic_store(&g_responder_ready, 0);
  g_responder_cpu = p->b;
  thread_t t;
  if ((err = thread_start(&t, responder, NULL)) != 0) {
    snprintf(p->error_text, sizeof p->error_text, "cannot start a thread: %s", error_text(err, buffer, sizeof buffer));
    p->error = p->error_text;
    printf("c2c cpus=%d,%d round=%d error=%s\n", p->a, p->b, round, p->error);
    free(samples);
    return;
  }
  while (!atomic_load(&g_responder_ready)) thread_yield();
  if (g_responder_error) {
    thread_join(&t);
    snprintf(p->error_text, sizeof p->error_text, "cannot pin to CPU %d: %s", p->b,
             error_text(g_responder_error, buffer, sizeof buffer));
    p->error = p->error_text;
    printf("c2c cpus=%d,%d round=%d error=%s\n", p->a, p->b, round, p->error);
    free(samples);
    return;
  }
  const double limit_ns = 2e9; /* one reply; a stuck vCPU must not hang the channel */
  const double started = now_ns();
  int k = p->round_trips_per_sample;
  if (k == 0) {
    /* Calibrate on the fastest of up to 5 single round trips (one preempted
     * round trip must not set K to 1), after one for warm-up; at most ~50 ms. */
    double one = round_trips(1, limit_ns);
    for (int i = 0; i < 5 && one >= 0 && now_ns() - started < 50e6; ++i) {
      double t1 = round_trips(1, limit_ns);
      if (t1 < 0 || i == 0 || t1 < one) one = t1;
    }
    k = 1;
    if (one > 0) {
      double target = 50 * g_timer_ns > 100e3 ? 50 * g_timer_ns : 100e3; /* >= 100 us a sample */
      if (one < target) k = (int)(target / one);
      if (k > 100000) k = 100000;
    }
    if (one < 0) p->error = "no reply within 2 s";
    else p->round_trips_per_sample = k;
  }
  int n = 0, taken = 0;
  while (!p->error && n < max_samples) {
    double t1 = round_trips(k, limit_ns * k);
    if (t1 < 0) {
      p->error = "no reply within 2 s";
      break;
    }
    if (taken++ >= warmup) samples[n++] = t1 / k;
    double elapsed_ms = (now_ns() - started) / 1e6;
    if (n >= min_samples && elapsed_ms >= budget_ms) break;
    if (elapsed_ms >= 20 * budget_ms && n >= 2) break; /* far slower than planned: keep what we have */
  }
  atomic_store(&g_stop, 1);
  thread_join(&t);
  if (p->error) {
    printf("c2c cpus=%d,%d round=%d error=%s after %d samples\n", p->a, p->b, round, p->error, n);
  } else {
    printf("c2c cpus=%d,%d round=%d round_trips_per_sample=%d warmup=%d samples=%d median_ns=%.1f elapsed_ms=%.1f\n",
           p->a, p->b, round, k, warmup, n, quantile(samples, n, 0.5), (now_ns() - started) / 1e6);
    printf("c2c_samples cpus=%d,%d round=%d ns=", p->a, p->b, round);
    print_list("%.1f", samples, n);
  }
  free(samples);
}

/* ---- chase ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

struct chase {
  int cpu;
  size_t bytes;
  void** memory;
  void** cursor;
  uint64_t loads;  /* per sample, calibrated in the first round */
  const char* error;
};

static void chase_build(struct chase* c) {
  const size_t stride = 64 / sizeof(void*);
  const size_t nodes = c->bytes / 64;
  c->memory = aligned_block(64, nodes * 64);
  size_t* order = malloc(nodes * sizeof(size_t));
  if (!c->memory || !order || nodes < 2) {
    c->error = "cannot allocate";
    if (c->memory) aligned_free(c->memory);
    c->memory = NULL;
    free(order);
    return;
  }
  for (size_t i = 0; i < nodes; ++i) order[i] = i;
  for (size_t i = nodes - 1; i > 0; --i) { /* Fisher-Yates: one random cycle through all lines */
    size_t j = next_random() % (i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (size_t i = 0; i < nodes; ++i) c->memory[order[i] * stride] = &c->memory[order[(i + 1) % nodes] * stride];
  free(order);
  c->cursor = &c->memory[0];
}

static double chase_loads(struct chase* c, uint64_t loads) {
  void** p = c->cursor;
  double t0 = now_ns();
  for (uint64_t i = 0; i < loads; ++i) p = (void**)*p;
  double t = now_ns() - t0;
  c->cursor = p; /* keeps the chain live: the loads cannot be optimised away */
  return t;
}

static void chase_round(struct chase* c, int round, int samples_wanted) {
  char buffer[128];
  if (c->error) return;
  int err = pin_self(c->cpu);
  if (err) {
    printf("chase cpu=%d bytes=%zu round=%d error=cannot pin to CPU %d: %s\n", c->cpu, c->bytes, round, c->cpu,
           error_text(err, buffer, sizeof buffer));
    return;
  }
  if (!c->memory) {
    chase_build(c); /* first touch on the CPU that chases */
    if (c->error) {
      printf("chase cpu=%d bytes=%zu round=%d error=%s\n", c->cpu, c->bytes, round, c->error);
      return;
    }
    chase_loads(c, c->bytes / 64); /* touch every line once */
    uint64_t loads = 1000;         /* calibrate: ~2 ms a sample */
    for (;;) {
      double t = chase_loads(c, loads);
      if (t > 1e6 || loads > (1ull << 30)) {
        loads = (uint64_t)((double)loads * 2e6 / (t > 0 ? t : 1));
        if (loads < 1000) loads = 1000;
        break;
      }
      loads *= 4;
    }
    c->loads = loads;
  }
  double* samples = malloc(sizeof(double) * (size_t)(samples_wanted > 0 ? samples_wanted : 1));
  if (!samples) return;
  chase_loads(c, c->loads); /* re-warm after the other kernels */
  for (int s = 0; s < samples_wanted; ++s) samples[s] = chase_loads(c, c->loads) / (double)c->loads;
  printf("chase cpu=%d bytes=%zu round=%d loads_per_sample=%llu samples=%d median_ns=%.2f\n", c->cpu, c->bytes, round,
         (unsigned long long)c->loads, samples_wanted, quantile(samples, samples_wanted, 0.5));
  printf("chase_samples cpu=%d bytes=%zu round=%d ns=", c->cpu, c->bytes, round);
  print_list("%.3f", samples, samples_wanted);
  free(samples);
}

/* ---- wakeup ---- */

struct waker {
  int cpu;
  int count, warmup;
  double interval_ns;
  double* lateness_us; /* count entries */
  const char* timer;
  char error[160];
};

static void* wake_loop(void* arg) {
  struct waker* w = arg;
  char buffer[128];
  int err = pin_self(w->cpu);
  if (err) {
    snprintf(w->error, sizeof w->error, "cannot pin to CPU %d: %s", w->cpu, error_text(err, buffer, sizeof buffer));
    return NULL;
  }
  if ((err = no_timer_slack()) != 0) {
    snprintf(w->error, sizeof w->error, "cannot set timer slack: %s", error_text(err, buffer, sizeof buffer));
    return NULL;
  }
  deadline_timer_t timer;
  w->timer = deadline_timer_open(&timer);
  if (!w->timer) {
    snprintf(w->error, sizeof w->error, "cannot create a timer");
    return NULL;
  }
  double deadline = now_ns() + w->interval_ns;
  for (int i = 0, kept = 0; kept < w->count; ++i) {
    if ((err = deadline_timer_sleep(&timer, deadline)) != 0) {
      snprintf(w->error, sizeof w->error, "cannot sleep: %s", error_text(err, buffer, sizeof buffer));
      break;
    }
    double now = now_ns();
    if (i >= w->warmup) w->lateness_us[kept++] = (now - deadline) / 1e3;
    deadline += w->interval_ns;
    /* Woke later than the next deadline: skip the missed ones, as cyclictest does. */
    while (now > deadline) deadline += w->interval_ns;
  }
  deadline_timer_close(&timer);
  return NULL;
}

static void wakeup_round(const int* cpus, int n, int round, int count, double interval_us) {
  struct waker wakers[MAX_WAKE_THREADS];
  thread_t threads[MAX_WAKE_THREADS];
  int started[MAX_WAKE_THREADS];
  char buffer[128];
  if (n > MAX_WAKE_THREADS) n = MAX_WAKE_THREADS;
  for (int i = 0; i < n; ++i) {
    memset(&wakers[i], 0, sizeof wakers[i]);
    wakers[i].cpu = cpus[i];
    wakers[i].count = count;
    wakers[i].warmup = 5;
    wakers[i].interval_ns = interval_us * 1e3;
    wakers[i].lateness_us = malloc(sizeof(double) * (size_t)(count > 0 ? count : 1));
    started[i] = wakers[i].lateness_us && thread_start(&threads[i], wake_loop, &wakers[i]) == 0;
    if (!started[i]) snprintf(wakers[i].error, sizeof wakers[i].error, "cannot start a thread");
  }
  for (int i = 0; i < n; ++i)
    if (started[i]) thread_join(&threads[i]);
  for (int i = 0; i < n; ++i) {
    struct waker* w = &wakers[i];
    if (w->error[0]) {
      printf("wakeup cpu=%d round=%d error=%s\n", w->cpu, round, w->error);
    } else {
      printf("wakeup cpu=%d round=%d interval_us=%.0f timer=%s samples=%d p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
             w->cpu, round, interval_us, w->timer, w->count, quantile(w->lateness_us, w->count, 0.5),
             quantile(w->lateness_us, w->count, 0.99), quantile(w->lateness_us, w->count, 1));
      printf("wakeup_samples cpu=%d round=%d us=", w->cpu, round);
      print_list("%.1f", w->lateness_us, w->count);
    }
    free(w->lateness_us);
  }
  (void)buffer;
}

/* ---- main ---- */

static void usage(void) {
  fprintf(stderr,
          "usage: vpt-guest-probe [--quick] [--rounds N] [--cpus LIST] [--max-pairs N] [--budget-ms MS]\n"
          "                       [--wakeups N] [--interval-us US] [--no-c2c] [--no-chase] [--no-wakeup]\n"
          "  c2c: cache-line ping-pong between pairs of CPUs of LIST (default: every CPU this process may use),\n"
          "       (A,B) in order up to --max-pairs (16); chase: pointer chase on the first CPU; wakeup: timer\n"
          "       wake-up lateness on every CPU of LIST (at most 64). Output: guest/README.md of vpt-tune.\n");
}

/* "0-3,8" -> cpus[]; the count, or -1 on a malformed list. */
static int parse_cpu_list(const char* text, int* cpus, int max) {
  int n = 0;
  const char* p = text;
  while (*p) {
    char* end;
    long a = strtol(p, &end, 10), b;
    if (end == p || a < 0 || a >= VPT_MAX_CPUS) return -1;
    p = end;
    b = a;
    if (*p == '-') {
      b = strtol(p + 1, &end, 10);
      if (end == p + 1 || b < a || b >= VPT_MAX_CPUS) return -1;
      p = end;
    }
    for (long c = a; c <= b; ++c) {
      if (n >= max) return -1;
      cpus[n++] = (int)c;
    }
    if (*p == ',') ++p;
    else if (*p) return -1;
  }
  return n;
}

static int number_arg(const char* text, int low, int high, int* out) {
  char* end;
  long v = strtol(text, &end, 10);
  if (end == text || *end || v < low || v > high) return -1;
  *out = (int)v;
  return 0;
}

int main(int argc, char** argv) {
  int quick = 0, do_c2c = 1, do_chase = 1, do_wakeup = 1, rounds = 0, max_pairs = 16, wakeups = 0;
  int interval_us = 1000;
  double budget_ms = -1;
  static int cpus[VPT_MAX_CPUS];
  int ncpus = -1;
  for (int i = 1; i < argc; ++i) {
    int bad = 0;
    if (!strcmp(argv[i], "--quick")) quick = 1;
    else if (!strcmp(argv[i], "--no-c2c")) do_c2c = 0;
    else if (!strcmp(argv[i], "--no-chase")) do_chase = 0;
    else if (!strcmp(argv[i], "--no-wakeup")) do_wakeup = 0;
    else if (!strcmp(argv[i], "--cpus") && i + 1 < argc) {
      ncpus = parse_cpu_list(argv[++i], cpus, VPT_MAX_CPUS);
      bad = ncpus < 1;
    } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) bad = number_arg(argv[++i], 1, MAX_ROUNDS, &rounds);
    else if (!strcmp(argv[i], "--max-pairs") && i + 1 < argc) bad = number_arg(argv[++i], 1, 100000, &max_pairs);
    else if (!strcmp(argv[i], "--wakeups") && i + 1 < argc) bad = number_arg(argv[++i], 1, 1000000, &wakeups);
    else if (!strcmp(argv[i], "--interval-us") && i + 1 < argc) bad = number_arg(argv[++i], 50, 1000000, &interval_us);
    else if (!strcmp(argv[i], "--budget-ms") && i + 1 < argc) {
      int ms;
      bad = number_arg(argv[++i], 1, 3600000, &ms);
      budget_ms = ms;
    } else bad = 1;
    if (bad) {
      usage();
      return 2;
    }
  }
  if (rounds == 0) rounds = quick ? 5 : 10;
  if (budget_ms <= 0) budget_ms = quick ? 300 : 2000; /* per pair, all rounds */
  if (wakeups == 0) wakeups = quick ? 1000 : 5000;  /* per CPU, all rounds */
  if (ncpus < 0) ncpus = allowed_cpus(cpus, VPT_MAX_CPUS);
  setvbuf(stdout, NULL, _IOLBF, 0);

  g_timer_ns = 1e12; /* cheapest of a few back-to-back clock reads */
  for (int i = 0; i < 20; ++i) {
    double t0 = now_ns(), t1 = now_ns();
    if (t1 - t0 < g_timer_ns) g_timer_ns = t1 - t0;
  }
  printf("probe version=%d os=%s online_cpus=%ld timer_ns=%.1f rounds=%d cpus=", PROBE_VERSION, kOs,
         online_cpu_count(), g_timer_ns, rounds);
  for (int i = 0; i < ncpus; ++i) printf(i ? ",%d" : "%d", cpus[i]);
  printf("\n");

  /* Pairs (A,B) with A < B in order, up to max_pairs. */
  int npairs = 0;
  struct pair* pairs = calloc((size_t)max_pairs, sizeof *pairs);
  if (!pairs) return 1;
  for (int i = 0; do_c2c && i < ncpus && npairs < max_pairs; ++i)
    for (int j = i + 1; j < ncpus && npairs < max_pairs; ++j) {
      pairs[npairs].a = cpus[i];
      pairs[npairs].b = cpus[j];
      ++npairs;
    }
  if (do_c2c && ncpus < 2) printf("c2c cpus=%d,%d round=0 error=needs two CPUs\n", ncpus ? cpus[0] : 0, 1);

  /* L1-sized, and within the host L2 with TCG's own data. */
  struct chase chases[2] = {{0, 16 << 10, NULL, NULL, 0, NULL}, {0, 256 << 10, NULL, NULL, 0, NULL}};
  for (int i = 0; i < 2; ++i) chases[i].cpu = ncpus ? cpus[0] : 0;

  const int c2c_max = quick ? 200 : 400; /* per pair, all rounds */
  const int chase_samples = quick ? 15 : 30;
  for (int r = 0; r < rounds; ++r) {
    for (int p = 0; p < npairs; ++p) {
      int max = share(c2c_max, rounds, r);
      c2c_round(&pairs[p], r, budget_ms / rounds, max < 6 ? max : 6, max);
    }
    for (int c = 0; do_chase && c < 2; ++c) chase_round(&chases[c], r, share(chase_samples, rounds, r));
    if (do_wakeup && ncpus > 0) wakeup_round(cpus, ncpus, r, share(wakeups, rounds, r), interval_us);
  }
  for (int c = 0; c < 2; ++c)
    if (chases[c].memory) aligned_free(chases[c].memory);
  free(pairs);
  printf("end\n");
  return 0;
}
