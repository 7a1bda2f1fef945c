// How a parallel backfill shares a table out among its workers: disjoint
// ctid page ranges that together cover every page of the backfill exactly
// once, and how many workers a job gets.
#pragma once
#include "core/batch_sizer.hpp"
#include "core/cpp_only.hpp"

#include <boost/container/static_vector.hpp>

#include <cstdint>

namespace colmig::core {

// colmig.max_parallel can be at most this (and so can a job's ranges).
inline constexpr int kMaxParallel = 32;

using PageRanges = boost::container::static_vector<PageRange, kMaxParallel>;

// Pages [0, end_page) in `parts` ranges of nearly equal size, in page order
// (the first end_page % parts ranges one page longer). Fewer ranges than
// `parts` when there are fewer pages than that, none for an empty table;
// `parts` below 1 counts as 1 and above kMaxParallel as kMaxParallel.
PageRanges plan_page_ranges(std::uint64_t end_page, int parts);

// The workers a job runs with: what it asked for, at most `cap`
// (colmig.max_parallel) and at most `slots_free` + 1 (its own worker is
// already running), and never fewer than 1.
int workers_for_job(int requested, int cap, int slots_free);

} // namespace colmig::core
