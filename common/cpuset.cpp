#include "common/cpuset.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <stdexcept>

namespace vpt {

namespace {

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

unsigned parse_cpu_number(std::string_view item, std::string_view whole) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
  if (item.empty() || ec != std::errc() || end != item.data() + item.size())
    throw std::invalid_argument(fmt::format("'{}' is not a CPU number in CPU list '{}'", item, whole));
  if (value >= kCpuNumberLimit)
    throw std::invalid_argument(fmt::format("CPU {} is out of range in CPU list '{}'", value, whole));
  return value;
}

}  // namespace

CpuSet::CpuSet(std::initializer_list<unsigned> cpus) {
  for (unsigned cpu : cpus) insert(cpu);
}

CpuSet CpuSet::parse(std::string_view text) {
  CpuSet set;
  std::string_view rest = trim_spaces(text);
  // A trailing comma is an empty last item (often a list cut short), like ",,".
  if (!rest.empty() && rest.back() == ',') throw std::invalid_argument(fmt::format("empty item in CPU list '{}'", text));
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = trim_spaces(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item.empty()) throw std::invalid_argument(fmt::format("empty item in CPU list '{}'", text));
    auto dash = item.find('-');
    if (dash == std::string_view::npos) {
      set.insert(parse_cpu_number(item, text));
      continue;
    }
    unsigned first = parse_cpu_number(trim_spaces(item.substr(0, dash)), text);
    unsigned last = parse_cpu_number(trim_spaces(item.substr(dash + 1)), text);
    if (last < first)
      throw std::invalid_argument(fmt::format("range '{}' runs backwards in CPU list '{}'", item, text));
    set |= range(first, last);
  }
  return set;
}

CpuSet CpuSet::range(unsigned first, unsigned last) {
  CpuSet set;
  for (unsigned cpu = first; cpu <= last; ++cpu) set.insert(cpu);
  return set;
}

void CpuSet::insert(unsigned cpu) {
  if (cpu / 64 >= words_.size()) words_.resize(cpu / 64 + 1, 0);
  words_[cpu / 64] |= std::uint64_t{1} << (cpu % 64);
}

void CpuSet::erase(unsigned cpu) {
  if (cpu / 64 >= words_.size()) return;
  words_[cpu / 64] &= ~(std::uint64_t{1} << (cpu % 64));
  trim();
}

bool CpuSet::contains(unsigned cpu) const {
  return cpu / 64 < words_.size() && (words_[cpu / 64] >> (cpu % 64)) & 1;
}

bool CpuSet::contains(const CpuSet& other) const { return (other - *this).empty(); }

bool CpuSet::intersects(const CpuSet& other) const {
  auto n = std::min(words_.size(), other.words_.size());
  for (std::size_t i = 0; i < n; ++i)
    if (words_[i] & other.words_[i]) return true;
  return false;
}

bool CpuSet::empty() const { return words_.empty(); }

unsigned CpuSet::size() const {
  unsigned n = 0;
  for (auto w : words_) n += static_cast<unsigned>(std::popcount(w));
  return n;
}

unsigned CpuSet::first() const {
  if (empty()) throw std::logic_error("CpuSet::first() on an empty set");
  return *begin();
}

unsigned CpuSet::last() const {
  if (empty()) throw std::logic_error("CpuSet::last() on an empty set");
  auto w = words_.back();
  return static_cast<unsigned>((words_.size() - 1) * 64 + 63 - std::countl_zero(w));
}

std::vector<unsigned> CpuSet::to_vector() const { return {begin(), end()}; }

std::string CpuSet::to_string() const {
  std::string out;
  auto it = begin();
  while (it != end()) {
    unsigned first = *it, last = first;
    for (++it; it != end() && *it == last + 1; ++it) last = *it;
    if (!out.empty()) out += ',';
    out += first == last ? fmt::format("{}", first) : fmt::format("{}-{}", first, last);
  }
  return out;
}

CpuSet& CpuSet::operator|=(const CpuSet& other) {
  if (other.words_.size() > words_.size()) words_.resize(other.words_.size(), 0);
  for (std::size_t i = 0; i < other.words_.size(); ++i) words_[i] |= other.words_[i];
  return *this;
}

CpuSet& CpuSet::operator&=(const CpuSet& other) {
  words_.resize(std::min(words_.size(), other.words_.size()));
  for (std::size_t i = 0; i < words_.size(); ++i) words_[i] &= other.words_[i];
  trim();
  return *this;
}

CpuSet& CpuSet::operator-=(const CpuSet& other) {
  auto n = std::min(words_.size(), other.words_.size());
  for (std::size_t i = 0; i < n; ++i) words_[i] &= ~other.words_[i];
  trim();
  return *this;
}

bool operator==(const CpuSet& a, const CpuSet& b) { return a.words_ == b.words_; }

bool operator<(const CpuSet& a, const CpuSet& b) {
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end() && ib != b.end(); ++ia, ++ib)
    if (*ia != *ib) return *ia < *ib;
  return ia == a.end() && ib != b.end();
}

void CpuSet::trim() {
  while (!words_.empty() && words_.back() == 0) words_.pop_back();
}

void CpuSet::const_iterator::advance_to_member() {
  unsigned cap = set_->capacity();
  while (pos_ < cap) {
    std::uint64_t word = set_->words_[pos_ / 64] >> (pos_ % 64);
    if (word) {
      pos_ += static_cast<unsigned>(std::countr_zero(word));
      return;
    }
    pos_ = (pos_ / 64 + 1) * 64;
  }
  pos_ = cap;
}

std::string cpus_text(const CpuSet& cpus) {
  std::string out = cpus.size() == 1 ? "CPU " : "CPUs ";
  out += cpus.to_string();
  return out;
}

std::string vcpus_text(const CpuSet& vcpus) {
  std::string out = vcpus.size() == 1 ? "vCPU " : "vCPUs ";
  out += vcpus.to_string();
  return out;
}

}  // namespace vpt
