// Rows a fill trigger could not fill: its expression raised for the row
// the application wrote, and the row was written with the column NULL.
// Such a row may lie anywhere in the table, also behind the sweep, so the
// backfill's proof must hear of it: each one is a row of
// colmig.fill_errors, written in the writing transaction itself. It lands
// only if the NULL row does (a rollback takes both away), and, being
// appended, makes no writer wait for another. The count of a job's rows
// when its sweep began is kept with the job; a count that moved since
// makes the sweep begin again.
#pragma once

#include <cstdint>

namespace colmig::catalog {

// SPI connected, as a role that may write colmig.fill_errors.
void note_fill_error(std::int64_t job_id);

// How many rows the job's fill trigger has left NULL so far.
std::int64_t fill_error_count(std::int64_t job_id);

// The job's fill trigger is gone: its rows are history.
void forget_fill_errors(std::int64_t job_id);

} // namespace colmig::catalog
