/* What vpt-guest-probe needs from the operating system, for Linux (POSIX) and
 * Windows: a monotonic clock in ns, threads, pinning a thread to one CPU, the
 * CPUs the process may use, sleeping to an absolute deadline, and memory
 * aligned to a cache line. Everything else in the probe is plain C11. */
#ifndef VPT_GUEST_PLATFORM_H
#define VPT_GUEST_PLATFORM_H

#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#endif
#if defined(_WIN32) && !defined(__USE_MINGW_ANSI_STDIO)
#define __USE_MINGW_ANSI_STDIO 1 /* C99 printf (%zu, %llu) rather than msvcrt's */
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VPT_MAX_CPUS 1024

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <malloc.h>
/* Windows 10 1803+; older SDK headers lack the name. */
#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002
#endif
#else
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#endif

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

#ifdef _WIN32

static const char* const kOs = "windows";

static inline double now_ns(void) {
  static LARGE_INTEGER frequency;
  LARGE_INTEGER t;
  if (!frequency.QuadPart) QueryPerformanceFrequency(&frequency);
  QueryPerformanceCounter(&t);
  return (double)t.QuadPart * 1e9 / (double)frequency.QuadPart;
}

typedef struct {
  HANDLE handle;
  void* (*fn)(void*);
  void* arg;
} thread_t;

static DWORD WINAPI thread_trampoline(LPVOID p) {
  thread_t* t = (thread_t*)p;
  t->fn(t->arg);
  return 0;
}

/* 0 on success, else an error number for error_text(). */
static inline int thread_start(thread_t* t, void* (*fn)(void*), void* arg) {
  t->fn = fn;
  t->arg = arg;
  t->handle = CreateThread(NULL, 0, thread_trampoline, t, 0, NULL);
  return t->handle ? 0 : (int)GetLastError();
}

static inline void thread_join(thread_t* t) {
  WaitForSingleObject(t->handle, INFINITE);
  CloseHandle(t->handle);
}

static inline void thread_yield(void) { SwitchToThread(); }

static inline const char* error_text(int error, char* buffer, size_t size) {
  if (!FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)error, 0, buffer,
                      (DWORD)size, NULL))
    snprintf(buffer, size, "Windows error %d", error);
  for (char* p = buffer; *p; ++p)
    if (*p == '\r' || *p == '\n') *p = ' ';
  size_t n = strlen(buffer);
  while (n && buffer[n - 1] == ' ') buffer[--n] = 0;
  return buffer;
}

/* SetThreadAffinityMask sees one processor group: CPUs 0-63. */
static inline int pin_self(int cpu) {
  if (cpu < 0 || cpu >= 64) return ERROR_INVALID_PARAMETER;
  return SetThreadAffinityMask(GetCurrentThread(), (DWORD_PTR)1 << cpu) ? 0 : (int)GetLastError();
}

/* The CPUs this process may run on; returns how many, fills cpus[]. */
static inline int allowed_cpus(int* cpus, int max) {
  DWORD_PTR process = 0, system = 0;
  int n = 0;
  if (!GetProcessAffinityMask(GetCurrentProcess(), &process, &system)) return 0;
  for (int cpu = 0; cpu < 64 && n < max; ++cpu)
    if (process & ((DWORD_PTR)1 << cpu)) cpus[n++] = cpu;
  return n;
}

static inline long online_cpu_count(void) { return (long)GetActiveProcessorCount(ALL_PROCESSOR_GROUPS); }

static inline void* aligned_block(size_t alignment, size_t size) { return _aligned_malloc(size, alignment); }
static inline void aligned_free(void* p) { _aligned_free(p); }

/* A timer a thread sleeps on until an absolute deadline (now_ns() time). */
typedef struct {
  HANDLE timer;
  int high_resolution;
} deadline_timer_t;

static inline const char* deadline_timer_open(deadline_timer_t* t) {
  t->timer = CreateWaitableTimerExW(NULL, NULL, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION, TIMER_ALL_ACCESS);
  t->high_resolution = t->timer != NULL;
  if (!t->timer) {
    /* Before Windows 10 1803: a plain waitable timer, as fine as the system
     * timer resolution (15.6 ms unless an application lowered it). */
    t->timer = CreateWaitableTimerExW(NULL, NULL, 0, TIMER_ALL_ACCESS);
    if (!t->timer) return NULL;
  }
  return t->high_resolution ? "waitable-timer-high-resolution" : "waitable-timer";
}

/* 0 when woken, else an error number. Relative due time in 100 ns units,
 * from the QueryPerformanceCounter time left to the deadline. */
static inline int deadline_timer_sleep(deadline_timer_t* t, double deadline_ns) {
  double left = deadline_ns - now_ns();
  if (left <= 0) return 0;
  LARGE_INTEGER due;
  due.QuadPart = -(LONGLONG)(left / 100.0);
  if (due.QuadPart == 0) due.QuadPart = -1;
  if (!SetWaitableTimer(t->timer, &due, 0, NULL, NULL, FALSE)) return (int)GetLastError();
  return WaitForSingleObject(t->timer, INFINITE) == WAIT_OBJECT_0 ? 0 : (int)GetLastError();
}

static inline void deadline_timer_close(deadline_timer_t* t) { CloseHandle(t->timer); }

/* Timer slack is a Linux notion. */
static inline int no_timer_slack(void) { return 0; }

#else /* POSIX: Linux */

static const char* const kOs = "linux";

static inline double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef struct {
  pthread_t handle;
} thread_t;

static inline int thread_start(thread_t* t, void* (*fn)(void*), void* arg) {
  return pthread_create(&t->handle, NULL, fn, arg);
}

static inline void thread_join(thread_t* t) { pthread_join(t->handle, NULL); }

static inline void thread_yield(void) { sched_yield(); }

static inline const char* error_text(int error, char* buffer, size_t size) {
  snprintf(buffer, size, "%s", strerror(error));
  return buffer;
}

static inline int pin_self(int cpu) {
  if (cpu < 0 || cpu >= VPT_MAX_CPUS) return EINVAL;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}

static inline int allowed_cpus(int* cpus, int max) {
  cpu_set_t set;
  int n = 0;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && n < max; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus[n++] = cpu;
  return n;
}

static inline long online_cpu_count(void) { return sysconf(_SC_NPROCESSORS_ONLN); }

static inline void* aligned_block(size_t alignment, size_t size) {
  return aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}
static inline void aligned_free(void* p) { free(p); }

typedef struct {
  int unused;
} deadline_timer_t;

static inline const char* deadline_timer_open(deadline_timer_t* t) {
  (void)t;
  return "clock_nanosleep";
}

static inline int deadline_timer_sleep(deadline_timer_t* t, double deadline_ns) {
  (void)t;
  struct timespec ts;
  ts.tv_sec = (time_t)(deadline_ns / 1e9);
  ts.tv_nsec = (long)(deadline_ns - (double)ts.tv_sec * 1e9);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec += 1;
    ts.tv_nsec -= 1000000000L;
  }
  if (ts.tv_nsec < 0) ts.tv_nsec = 0;
  int error;
  while ((error = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR) {
  }
  return error;
}

static inline void deadline_timer_close(deadline_timer_t* t) { (void)t; }

/* SCHED_OTHER threads get 50 us of timer slack by default, which would be
 * measured as lateness (cyclictest's RT threads have none). */
static inline int no_timer_slack(void) { return prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0 ? 0 : errno; }

#endif

#endif /* VPT_GUEST_PLATFORM_H */
