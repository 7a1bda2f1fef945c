// Names of the helper objects a job puts on its table. They are part of
// colmig's contract with the catalog: the orphan cleanup recognises a
// job's check by its name, and the fill trigger's name decides when it
// fires among the table's own triggers.
#pragma once
#include "core/cpp_only.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace colmig::core {

// PostgreSQL fires a table's BEFORE row triggers in the byte order of
// their names. '~' sorts after every letter, digit and punctuation mark
// of ASCII, so the fill trigger fires after the application's own BEFORE
// triggers unless their names begin with '~' or a non-ASCII character.
// The trigger is named kFillTriggerPrefix + job id; PostgreSQL appends
// "_<trigger oid>" to the name of an internal trigger.
inline constexpr std::string_view kFillTriggerPrefix = "~colmig_fill_";

// Whether a trigger named `name` may fire after a fill trigger not yet
// created (its job's id and OID are not known): every name from
// kFillTriggerPrefix on. Only for a user's trigger: colmig's own are
// internal.
bool fires_after_fill_trigger(std::string_view name);

// "colmig_<job>_not_null": the NOT VALID check before SET NOT NULL.
std::string not_null_check_name(std::int64_t job_id);

// "colmig_<job>_index": the name a create_index job builds its index
// under, until it is valid and renamed. Whatever index of that name is on
// the job's table after a failed or interrupted build is the job's own.
std::string building_index_name(std::int64_t job_id);

// The job a check of that form belongs to.
std::optional<std::int64_t> job_of_not_null_check(std::string_view name);

} // namespace colmig::core
