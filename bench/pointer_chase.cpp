#include "bench/pointer_chase.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <numeric>
#include <random>
#include <system_error>
#include <vector>

#include "bench/kernels.hpp"

namespace vpt {

ChaseBuffer::ChaseBuffer(std::size_t bytes, std::uint64_t seed) {
  lines_ = std::max<std::size_t>(2, bytes / kLineBytes);
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  mapped_bytes_ = (lines_ * kLineBytes + page - 1) / page * page;
  memory_ = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory_ == MAP_FAILED) {
    memory_ = nullptr;
    throw std::system_error(errno, std::generic_category(), "cannot map the pointer-chase buffer");
  }
  // Huge pages where the kernel grants them: fewer TLB misses, so large sizes
  // measure the cache/DRAM more than the page walker. Failure is harmless.
  if (mapped_bytes_ >= (2u << 20)) madvise(memory_, mapped_bytes_, MADV_HUGEPAGE);

  // One random cycle: shuffle the visiting order, link each line to the next.
  std::vector<std::uint32_t> order(lines_);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  auto* base = static_cast<unsigned char*>(memory_);
  auto line = [&](std::uint32_t i) { return reinterpret_cast<void**>(base + std::size_t{i} * kLineBytes); };
  for (std::size_t k = 0; k < lines_; ++k) *line(order[k]) = line(order[(k + 1) % lines_]);
  cursor_ = line(order[0]);
}

ChaseBuffer::~ChaseBuffer() {
  if (memory_) munmap(memory_, mapped_bytes_);
}

double ChaseBuffer::ns_per_load(std::uint64_t loads) {
  std::uint64_t rounds = (loads + 15) / 16;
  void* const* p = cursor_;
  auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t r = 0; r < rounds; ++r) {
#define VPT_CHASE1 p = static_cast<void* const*>(*p);
#define VPT_CHASE4 VPT_CHASE1 VPT_CHASE1 VPT_CHASE1 VPT_CHASE1
    VPT_CHASE4 VPT_CHASE4 VPT_CHASE4 VPT_CHASE4
#undef VPT_CHASE4
#undef VPT_CHASE1
  }
  asm volatile("" : : "r"(p) : "memory");  // the chain ends before the clock is read
  auto t1 = std::chrono::steady_clock::now();
  cursor_ = p;  // keeps the chain live: the loads cannot be optimised away
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(rounds * 16);
}

}  // namespace vpt
