// What a failed validation tells the user: how many rows break the rule
// and which ones, so the data can be fixed and the job run again.
#pragma once
#include "catalog/job.hpp"

#include <functional>
#include <string>

namespace colmig::runner {

// How many rows count at most before the message says "at least": the
// count scans the table again, and stops early when there are many.
inline constexpr int kViolationsCounted = 10000;

// In a transaction of its own, as the job's owner: "3 rows (id=1, id=7,
// id=9)" for the rows of the job's table where `predicate` (SQL over the
// table's columns, the table aliased colmig_row, rendered under colmig's
// pinned search_path) is true. Rows are named
// by primary key, or by ctid when the table has none.
std::string describe_violations(const catalog::Job &job,
                                const std::function<std::string()> &predicate);

// The predicate true for the rows that break constraint `constraint`
// (a CHECK or FOREIGN KEY of the job's table), inside a transaction.
std::string violation_predicate(const catalog::Job &job, Oid constraint);

} // namespace colmig::runner
