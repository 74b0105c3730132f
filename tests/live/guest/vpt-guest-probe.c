/* vpt-guest-probe: what the guest feels of its vCPUs' placement, measured
 * inside the guest. Built static (gcc -static) into the test initramfs.
 *
 *   c2c    one cache line bounced between a thread pinned to vCPU A and one
 *          pinned to vCPU B (sched_setaffinity); a sample is the time of K
 *          round trips / K. K adapts: 1 when a round trip takes milliseconds
 *          (both vCPUs on one host CPU: the host must switch threads for every
 *          reply), more when it takes microseconds, so that the timer's own
 *          cost stays below 2% of a sample.
 *   chase  a dependent pointer chase over a random cyclic permutation, one
 *          node per 64-byte line, ns per load.
 *
 * Output, one record a line, "TYPE key=value ...", values without spaces
 * except `error=`, which takes the rest of the line:
 *   probe version=1 online_cpus=2 timer_ns=...
 *   c2c cpus=0,1 round_trips_per_sample=K warmup=W samples=N median_ns=.. p99_ns=.. min_ns=.. max_ns=.. elapsed_ms=..
 *   c2c_samples cpus=0,1 ns=x1,x2,...          (round-trip ns of each sample, in order)
 *   chase cpu=0 bytes=B loads_per_sample=L samples=N median_ns=..
 *   chase_samples cpu=0 bytes=B ns=x1,x2,...   (ns per load of each sample)
 *   c2c cpus=0,1 error=<why>                   (or chase ... error=)
 *   end
 * The statistics printed are for a human reading the console; vpt-tune
 * recomputes them from the samples.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 400

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Type-7 quantile (as vpt-tune's statistics) of a copy of the samples. */
static double quantile(const double* samples, int n, double q) {
  double sorted[MAX_SAMPLES];
  memcpy(sorted, samples, sizeof(double) * (size_t)n);
  qsort(sorted, (size_t)n, sizeof(double), cmp_double);
  double h = (n - 1) * q;
  int lo = (int)h;
  if (lo + 1 >= n) return sorted[n - 1];
  return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

static void print_list(const double* samples, int n) {
  for (int i = 0; i < n; ++i) printf(i ? ",%.1f" : "%.1f", samples[i]);
  printf("\n");
}

static int pin_self(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}

/* ---- c2c ---- */

/* The line both threads write; alone in its 64-byte line. Odd: a ping waits
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
      __builtin_ia32_pause();
    }
  }
  return NULL;
}

/* k round trips; returns the elapsed ns, or -1 when a reply takes over `limit_ns`. */
static double round_trips(int k, double limit_ns) {
  double start = now_ns();
  for (int i = 0; i < k; ++i) {
    uint64_t v = atomic_load_explicit(&g_line.seq, memory_order_relaxed) + 1; /* odd */
    atomic_store_explicit(&g_line.seq, v, memory_order_release);
    unsigned spins = 0;
    while (atomic_load_explicit(&g_line.seq, memory_order_acquire) != v + 1) {
      __builtin_ia32_pause();
      if (++spins % 4096 == 0 && now_ns() - start > limit_ns) return -1;
    }
  }
  return now_ns() - start;
}

static void c2c(int a, int b, double budget_ms, int min_samples, int max_samples, double timer_ns) {
  double samples[MAX_SAMPLES];
  const int warmup = 2;
  if (max_samples > MAX_SAMPLES) max_samples = MAX_SAMPLES;
  if (min_samples > max_samples) min_samples = max_samples;
  int err = pin_self(a);
  if (err) {
    printf("c2c cpus=%d,%d error=cannot pin to CPU %d: %s\n", a, b, a, strerror(err));
    return;
  }
  atomic_store(&g_line.seq, 0);
  atomic_store(&g_stop, 0);
  atomic_store(&g_responder_ready, 0);
  g_responder_cpu = b;
  pthread_t t;
  if ((err = pthread_create(&t, NULL, responder, NULL)) != 0) {
    printf("c2c cpus=%d,%d error=cannot start a thread: %s\n", a, b, strerror(err));
    return;
  }
  while (!atomic_load(&g_responder_ready)) sched_yield();
  if (g_responder_error) {
    pthread_join(t, NULL);
    printf("c2c cpus=%d,%d error=cannot pin to CPU %d: %s\n", a, b, b, strerror(g_responder_error));
    return;
  }
  const double limit_ns = 2e9; /* one reply; a stuck vCPU must not hang the channel */
  const double started = now_ns();
  /* Calibrate on the fastest of up to 5 single round trips (one preempted
   * round trip must not set K to 1), after one for warm-up; at most ~50 ms. */
  double one = round_trips(1, limit_ns);
  for (int i = 0; i < 5 && one >= 0 && now_ns() - started < 50e6; ++i) {
    double t = round_trips(1, limit_ns);
    if (t < 0 || i == 0 || t < one) one = t;
  }
  int k = 1;
  if (one > 0) {
    double target = 50 * timer_ns > 100e3 ? 50 * timer_ns : 100e3; /* >= 100 us a sample */
    if (one < target) k = (int)(target / one);
    if (k > 100000) k = 100000;
  }
  int n = 0, taken = 0;
  const char* problem = one < 0 ? "no reply within 2 s" : NULL;
  while (!problem && n < max_samples) {
    double t = round_trips(k, limit_ns * k);
    if (t < 0) {
      problem = "no reply within 2 s";
      break;
    }
    if (taken++ >= warmup) samples[n++] = t / k;
    double elapsed_ms = (now_ns() - started) / 1e6;
    if (n >= min_samples && elapsed_ms >= budget_ms) break;
    if (elapsed_ms >= 20 * budget_ms && n >= 8) break; /* far slower than planned: keep what we have */
  }
  atomic_store(&g_stop, 1);
  pthread_join(t, NULL);
  if (problem) {
    printf("c2c cpus=%d,%d error=%s after %d samples\n", a, b, problem, n);
    return;
  }
  printf("c2c cpus=%d,%d round_trips_per_sample=%d warmup=%d samples=%d median_ns=%.1f p99_ns=%.1f min_ns=%.1f "
         "max_ns=%.1f elapsed_ms=%.1f\n",
         a, b, k, warmup, n, quantile(samples, n, 0.5), quantile(samples, n, 0.99), quantile(samples, n, 0),
         quantile(samples, n, 1), (now_ns() - started) / 1e6);
  printf("c2c_samples cpus=%d,%d ns=", a, b);
  print_list(samples, n);
}

/* ---- chase ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

static void chase(int cpu, size_t bytes, int samples_wanted) {
  double samples[MAX_SAMPLES];
  if (samples_wanted > MAX_SAMPLES) samples_wanted = MAX_SAMPLES;
  int err = pin_self(cpu);
  if (err) {
    printf("chase cpu=%d bytes=%zu error=cannot pin to CPU %d: %s\n", cpu, bytes, cpu, strerror(err));
    return;
  }
  const size_t stride = 64 / sizeof(void*);
  const size_t nodes = bytes / 64;
  void** mem = aligned_alloc(64, nodes * 64);
  size_t* order = malloc(nodes * sizeof(size_t));
  if (!mem || !order || nodes < 2) {
    printf("chase cpu=%d bytes=%zu error=cannot allocate\n", cpu, bytes);
    free(mem);
    free(order);
    return;
  }
  for (size_t i = 0; i < nodes; ++i) order[i] = i;
  for (size_t i = nodes - 1; i > 0; --i) { /* Fisher-Yates: one random cycle through all lines */
    size_t j = next_random() % (i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (size_t i = 0; i < nodes; ++i) mem[order[i] * stride] = &mem[order[(i + 1) % nodes] * stride];
  free(order);
  void** p = &mem[0];
  for (size_t i = 0; i < nodes; ++i) p = (void**)*p; /* touch every line once */
  /* Calibrate: loads for ~2 ms a sample. */
  uint64_t loads = 1000;
  for (;;) {
    double t0 = now_ns();
    for (uint64_t i = 0; i < loads; ++i) p = (void**)*p;
    double t = now_ns() - t0;
    if (t > 1e6 || loads > (1ull << 30)) {
      loads = (uint64_t)((double)loads * 2e6 / (t > 0 ? t : 1));
      if (loads < 1000) loads = 1000;
      break;
    }
    loads *= 4;
  }
  for (int s = 0; s < samples_wanted; ++s) {
    double t0 = now_ns();
    for (uint64_t i = 0; i < loads; ++i) p = (void**)*p;
    samples[s] = (now_ns() - t0) / (double)loads;
  }
  if (p == NULL) printf("#\n"); /* keeps the chase from being optimised away */
  free(mem);
  printf("chase cpu=%d bytes=%zu loads_per_sample=%llu samples=%d median_ns=%.2f\n", cpu, bytes,
         (unsigned long long)loads, samples_wanted, quantile(samples, samples_wanted, 0.5));
  printf("chase_samples cpu=%d bytes=%zu ns=", cpu, bytes);
  for (int i = 0; i < samples_wanted; ++i) printf(i ? ",%.3f" : "%.3f", samples[i]);
  printf("\n");
}

static void usage(void) {
  fprintf(stderr,
          "usage: vpt-guest-probe [--quick] [--cpus A,B] [--no-c2c] [--no-chase] [--budget-ms MS]\n"
          "  c2c: cache-line ping-pong between vCPUs A and B (default 0,1); chase: pointer chase on A\n");
}

int main(int argc, char** argv) {
  int quick = 0, do_c2c = 1, do_chase = 1, a = 0, b = 1;
  double budget_ms = -1;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--quick")) quick = 1;
    else if (!strcmp(argv[i], "--no-c2c")) do_c2c = 0;
    else if (!strcmp(argv[i], "--no-chase")) do_chase = 0;
    else if (!strcmp(argv[i], "--cpus") && i + 1 < argc) {
      if (sscanf(argv[++i], "%d,%d", &a, &b) != 2 || a < 0 || b < 0 || a == b) {
        usage();
        return 2;
      }
    } else if (!strcmp(argv[i], "--budget-ms") && i + 1 < argc) {
      budget_ms = atof(argv[++i]);
    } else {
      usage();
      return 2;
    }
  }
  if (budget_ms <= 0) budget_ms = quick ? 300 : 2000;
  setvbuf(stdout, NULL, _IOLBF, 0);

  double timer = 1e12;  /* cheapest of a few back-to-back clock reads */
  for (int i = 0; i < 20; ++i) {
    double t0 = now_ns(), t1 = now_ns();
    if (t1 - t0 < timer) timer = t1 - t0;
  }
  printf("probe version=1 online_cpus=%ld timer_ns=%.1f\n", sysconf(_SC_NPROCESSORS_ONLN), timer);
  if (do_c2c) c2c(a, b, budget_ms, 30, quick ? 200 : MAX_SAMPLES, timer);
  if (do_chase) {
    const size_t sizes[] = {16 << 10, 256 << 10}; /* L1-sized, and within the host L2 with TCG's own data */
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) chase(a, sizes[i], quick ? 11 : 31);
  }
  printf("end\n");
  return 0;
}
