#include "core/helper_names.hpp"

#include <cctype>
#include <limits>

namespace colmig::core {

namespace {
constexpr std::string_view kCheckPrefix = "colmig_";
constexpr std::string_view kCheckSuffix = "_not_null";
// Job ids are bigint: at most 19 digits.
constexpr std::size_t kMaxJobDigits = 19;
} // namespace

bool fires_after_fill_trigger(std::string_view name) {
  // Byte order, as PostgreSQL compares trigger names (strcmp).
  return name.compare(kFillTriggerPrefix) >= 0;
}

std::string not_null_check_name(std::int64_t job_id) {
  return std::string(kCheckPrefix) + std::to_string(job_id) + std::string(kCheckSuffix);
}

std::string building_index_name(std::int64_t job_id) {
  return "colmig_" + std::to_string(job_id) + "_index";
}

std::optional<std::int64_t> job_of_not_null_check(std::string_view name) {
  if (name.size() <= kCheckPrefix.size() + kCheckSuffix.size() ||
      name.substr(0, kCheckPrefix.size()) != kCheckPrefix ||
      name.substr(name.size() - kCheckSuffix.size()) != kCheckSuffix)
    return std::nullopt;
  std::string_view digits = name.substr(
      kCheckPrefix.size(), name.size() - kCheckPrefix.size() - kCheckSuffix.size());
  if (digits.empty() || digits.size() > kMaxJobDigits || digits.front() == '0')
    return std::nullopt;
  std::uint64_t job = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return std::nullopt;
    job = job * 10 + static_cast<std::uint64_t>(c - '0');
  }
  // 19 digits fit in 64 unsigned bits; not every such number is a bigint.
  if (job > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return std::nullopt;
  return static_cast<std::int64_t>(job);
}

} // namespace colmig::core
