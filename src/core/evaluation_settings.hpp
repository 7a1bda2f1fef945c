// The settings under which a job's expression is evaluated, captured from
// the session that created the job. The expression itself is bound when
// it is analysed, but what it calls may still depend on settings when it
// runs: functions look names up through search_path and parse the SQL
// they run by its rules, and built-in functions and casts read and write
// dates, numbers, arrays, text search vectors, XML and identifiers by
// these. The batches and the fill trigger both evaluate with the
// creator's values, so a row the application writes gets the value a
// batch would give it, and no writing session can steer what the owner's
// functions resolve or compute.
//
// The list is every setting a role without special rights can change
// that changes what a built-in function, cast or query returns; planner
// settings, timeouts and logging change no value. Settings of extensions
// and custom ones (`app.tenant`, read with current_setting()) are not
// pinned: they are the writing session's.
#pragma once
#include "core/cpp_only.hpp"

#include <array>
#include <string>
#include <string_view>

namespace colmig::core {

inline constexpr std::array<const char *, 20> kEvaluationSettings = {
    "search_path",
    // dates and times
    "TimeZone", "DateStyle", "IntervalStyle", "timezone_abbreviations",
    // numbers, money, names of days and months
    "extra_float_digits", "lc_monetary", "lc_numeric", "lc_time",
    // text forms of other types
    "bytea_output", "array_nulls", "quote_all_identifiers", "xmlbinary", "xmloption",
    "default_text_search_config",
    // how the SQL that functions run is parsed and what it sees
    "standard_conforming_strings", "backslash_quote", "transform_null_equals",
    "row_security", "gin_fuzzy_search_limit"};
inline constexpr std::size_t kSearchPathSetting = 0;

using EvaluationSettings = std::array<std::string, kEvaluationSettings.size()>;

// A search_path as it must be for code that runs with someone else's
// rights (the advice for SECURITY DEFINER functions): the same schemas,
// with pg_temp, which PostgreSQL otherwise searches first for tables and
// types, moved to the end. `path` is a search_path setting's text.
std::string with_temp_schema_last(std::string_view path);

} // namespace colmig::core
