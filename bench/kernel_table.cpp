// The table itself: every kernel, in the order a run measures them and the
// results file, compare and the console list them.
#include "bench/kernel_table.hpp"

namespace vpt {

const std::vector<const Kernel*>& kernel_table() {
  static const std::vector<const Kernel*> table{&kCoreToCoreKernel, &kMemoryLatencyKernel, &kInterferenceKernel,
                                                &kWakeupKernel,     &kStealKernel,         &kGuestKernel};
  return table;
}

unsigned share_of_round(unsigned total, unsigned rounds, unsigned index) {
  if (rounds == 0) return total;
  return total / rounds + (index < total % rounds ? 1 : 0);
}

}  // namespace vpt
