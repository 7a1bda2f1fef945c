#include "core/page_ranges.hpp"

#include <algorithm>

namespace colmig::core {

PageRanges plan_page_ranges(std::uint64_t end_page, int parts) {
  PageRanges ranges;
  const auto wanted = static_cast<std::uint64_t>(std::clamp(parts, 1, kMaxParallel));
  const std::uint64_t count = std::min(wanted, end_page);
  if (count == 0)
    return ranges;
  const std::uint64_t base = end_page / count;
  const std::uint64_t longer = end_page % count;
  std::uint64_t first = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t end = first + base + (i < longer ? 1 : 0);
    ranges.push_back({first, end});
    first = end;
  }
  return ranges;
}

int workers_for_job(int requested, int cap, int slots_free) {
  return std::max(1, std::min({requested, cap, std::max(0, slots_free) + 1}));
}

} // namespace colmig::core
