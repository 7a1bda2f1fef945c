// The settings under which a job's expression is evaluated, captured from
// the session that created the job. The expression itself is bound when
// it is analysed, but what it calls may still depend on settings when it
// runs: functions look names up through search_path, and stable functions
// format and read dates, intervals and floats by these settings. The
// batches and the fill trigger both evaluate with the creator's values, so
// a row the application writes gets the value a batch would give it, and
// no writing session can steer what the owner's functions resolve.
#pragma once
#include "core/cpp_only.hpp"

#include <array>
#include <string>
#include <string_view>

namespace colmig::core {

inline constexpr std::array<const char *, 6> kEvaluationSettings = {
    "search_path",   "TimeZone",           "DateStyle",
    "IntervalStyle", "extra_float_digits", "bytea_output"};
inline constexpr std::size_t kSearchPathSetting = 0;

using EvaluationSettings = std::array<std::string, kEvaluationSettings.size()>;

// A search_path as it must be for code that runs with someone else's
// rights (the advice for SECURITY DEFINER functions): the same schemas,
// with pg_temp, which PostgreSQL otherwise searches first for tables and
// types, moved to the end. `path` is a search_path setting's text.
std::string with_temp_schema_last(std::string_view path);

} // namespace colmig::core
