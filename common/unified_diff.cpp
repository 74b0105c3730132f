#include "common/unified_diff.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "common/text.hpp"

namespace vpt {

namespace {

struct Edit {
  char op;  // ' ', '-', '+'
  std::string_view line;
};

}  // namespace

std::string unified_diff(std::string_view old_text, std::string_view new_text, const std::string& old_label,
                         const std::string& new_label) {
  if (old_text == new_text) return {};
  auto a = split_lines(old_text), b = split_lines(new_text);
  // Common prefix and suffix first: patches touch a few lines of long files.
  std::size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  std::size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
    ++suffix;
  const std::size_t n = a.size() - prefix - suffix, m = b.size() - prefix - suffix;
  // lcs[i][j] = length of the longest common subsequence of a[i..] and b[j..] (middle part).
  std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
  auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return lcs[i * (m + 1) + j]; };
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      at(i, j) = a[prefix + i] == b[prefix + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));

  std::vector<Edit> edits;
  for (std::size_t k = 0; k < prefix; ++k) edits.push_back({' ', a[k]});
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[prefix + i] == b[prefix + j]) {
      edits.push_back({' ', a[prefix + i]});
      ++i, ++j;
    } else if (j < m && (i == n || at(i, j + 1) >= at(i + 1, j))) {
      edits.push_back({'+', b[prefix + j]});
      ++j;
    } else {
      edits.push_back({'-', a[prefix + i]});
      ++i;
    }
  }
  for (std::size_t k = 0; k < suffix; ++k)
    edits.push_back({' ', a[prefix + n + k]});
  // Removals before additions inside each changed run, the way diff -u prints them.
  for (std::size_t s = 0; s < edits.size();) {
    std::size_t e = s;
    while (e < edits.size() && edits[e].op != ' ') ++e;
    std::stable_partition(edits.begin() + s, edits.begin() + e, [](const Edit& x) { return x.op == '-'; });
    s = e == s ? s + 1 : e;
  }

  constexpr std::size_t kContext = 3;
  std::string out = fmt::format("--- {}\n+++ {}\n", old_label, new_label);
  std::size_t k = 0;
  while (k < edits.size()) {
    while (k < edits.size() && edits[k].op == ' ') ++k;
    if (k == edits.size()) break;
    std::size_t start = k >= kContext ? k - kContext : 0;
    // Extend the hunk while changes are at most 2*context lines apart.
    std::size_t end = k;
    while (true) {
      while (end < edits.size() && edits[end].op != ' ') ++end;
      std::size_t next = end;
      while (next < edits.size() && edits[next].op == ' ') ++next;
      if (next < edits.size() && next - end <= 2 * kContext) {
        end = next;
        continue;
      }
      end = std::min(edits.size(), end + kContext);
      break;
    }
    std::size_t old_before = 0, new_before = 0, old_count = 0, new_count = 0;
    for (std::size_t x = 0; x < start; ++x) {
      if (edits[x].op != '+') ++old_before;
      if (edits[x].op != '-') ++new_before;
    }
    for (std::size_t x = start; x < end; ++x) {
      if (edits[x].op != '+') ++old_count;
      if (edits[x].op != '-') ++new_count;
    }
    // diff -u numbers an empty side by the line before it.
    std::size_t old_start = old_before + (old_count ? 1 : 0);
    std::size_t new_start = new_before + (new_count ? 1 : 0);
    out += fmt::format("@@ -{},{} +{},{} @@\n", old_start, old_count, new_start, new_count);
    for (std::size_t x = start; x < end; ++x) {
      out += edits[x].op;
      out += edits[x].line;
      if (edits[x].line.empty() || edits[x].line.back() != '\n') out += "\n\\ No newline at end of file\n";
    }
    k = end;
  }
  return out;
}

}  // namespace vpt
