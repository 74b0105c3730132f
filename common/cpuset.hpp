// CpuSet: a set of logical CPUs named by their OS index (the numbers of
// `lscpu -e`'s CPU column and of libvirt's cpuset="..." attributes).
//
// One type, one text form: the list syntax "0-3,8,10-11" that hwloc, libvirt,
// lscpu and the kernel (isolcpus=, cpuset.cpus) all use.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace vpt {

// Every CPU number vpt-tune reads is below this: larger than any machine hwloc
// or libvirt describe, small enough that a typo ("1e10", "-1" wrapped to
// 4294967295) cannot make a CpuSet allocate gigabytes. Hosts are bounded in
// count separately (probe/topology.hpp: kMaxCpus).
inline constexpr unsigned kCpuNumberLimit = 1u << 20;

class CpuSet {
 public:
  CpuSet() = default;
  CpuSet(std::initializer_list<unsigned> cpus);

  // Parses "0-3,8,10-11" (whitespace around items allowed, "" is empty).
  // Throws std::invalid_argument naming the offending item.
  static CpuSet parse(std::string_view text);
  static CpuSet range(unsigned first, unsigned last);  // inclusive

  void insert(unsigned cpu);
  void erase(unsigned cpu);
  bool contains(unsigned cpu) const;
  bool contains(const CpuSet& other) const;     // other ⊆ this
  bool intersects(const CpuSet& other) const;
  bool empty() const;
  unsigned size() const;                        // number of CPUs in the set
  unsigned first() const;                       // smallest CPU; set must not be empty
  unsigned last() const;                        // largest CPU; set must not be empty

  std::vector<unsigned> to_vector() const;
  std::string to_string() const;                // "0-3,8"; "" when empty

  CpuSet& operator|=(const CpuSet& other);
  CpuSet& operator&=(const CpuSet& other);
  CpuSet& operator-=(const CpuSet& other);
  friend CpuSet operator|(CpuSet a, const CpuSet& b) { return a |= b; }
  friend CpuSet operator&(CpuSet a, const CpuSet& b) { return a &= b; }
  friend CpuSet operator-(CpuSet a, const CpuSet& b) { return a -= b; }
  friend bool operator==(const CpuSet& a, const CpuSet& b);
  friend bool operator<(const CpuSet& a, const CpuSet& b);  // by first CPU, then lexicographic

  // Iterates CPUs in increasing order.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = unsigned;
    using difference_type = std::ptrdiff_t;
    using pointer = const unsigned*;
    using reference = unsigned;
    const_iterator() = default;
    const_iterator(const CpuSet* set, unsigned pos) : set_(set), pos_(pos) { advance_to_member(); }
    unsigned operator*() const { return pos_; }
    const_iterator& operator++() { ++pos_; advance_to_member(); return *this; }
    const_iterator operator++(int) { auto old = *this; ++*this; return old; }
    bool operator==(const const_iterator& o) const { return pos_ == o.pos_; }

   private:
    void advance_to_member();
    const CpuSet* set_ = nullptr;
    unsigned pos_ = 0;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, capacity()}; }

 private:
  unsigned capacity() const { return static_cast<unsigned>(words_.size() * 64); }
  void trim();
  std::vector<std::uint64_t> words_;  // bit i of word w is CPU 64*w+i; no trailing zero words
};

// For text: "CPU 5", "CPUs 0-7"; "vCPU 3", "vCPUs 0-3,8".
std::string cpus_text(const CpuSet& cpus);
std::string vcpus_text(const CpuSet& vcpus);

}  // namespace vpt

template <>
struct fmt::formatter<vpt::CpuSet> : fmt::formatter<std::string> {
  template <typename FormatContext>
  auto format(const vpt::CpuSet& set, FormatContext& ctx) const {
    return fmt::formatter<std::string>::format(set.to_string(), ctx);
  }
};
