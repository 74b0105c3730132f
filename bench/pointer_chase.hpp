// The dependent-load chain shared by the memory-latency and interference
// kernels. Internal to bench/.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vpt {

// `bytes` of memory cut into 64-byte lines, each holding a pointer to the next
// line of one random cycle through all of them. Construct it on the thread that
// will chase it, after pinning (first touch puts the pages on that CPU's node).
class ChaseBuffer {
 public:
  ChaseBuffer(std::size_t bytes, std::uint64_t seed);  // throws std::system_error / std::bad_alloc
  ~ChaseBuffer();
  ChaseBuffer(const ChaseBuffer&) = delete;
  ChaseBuffer& operator=(const ChaseBuffer&) = delete;

  // Follows `loads` pointers (rounded up to a multiple of 16), continuing where
  // the previous call stopped; returns nanoseconds per load.
  double ns_per_load(std::uint64_t loads);
  std::size_t lines() const { return lines_; }

 private:
  void* memory_ = nullptr;
  std::size_t mapped_bytes_ = 0;
  std::size_t lines_ = 0;
  void* const* cursor_ = nullptr;
};

}  // namespace vpt
