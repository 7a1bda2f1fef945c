// Whether a backfill's proof still holds, decided from what the worker
// observed of the table and of the job's fill trigger. Pure.
//
// The proof: every row the table had when the sweep began lies below the
// sweep's end page, and every row written since passed the fill trigger.
// So once the sweep has visited every page, no row can still have the
// column NULL where the expression is not NULL, unless
//  - the table was rewritten (VACUUM FULL, CLUSTER, a rewriting ALTER
//    TABLE) while the sweep ran: rows moved behind its cursor without any
//    trigger; the sweep starts again;
//  - the fill trigger stopped firing for a while (disabled and enabled
//    again: its catalog row changed): rows written then may be NULL
//    anywhere; the sweep starts again;
//  - the fill trigger could not fill some row it fired for (the expression
//    raised there; the application's write went through with the column
//    NULL): that row may lie anywhere too; the sweep starts again, and
//    meets the row (and the error) itself;
//  - the fill trigger is gone or does not fire now: rows written from now
//    on would not be filled; the job fails;
//  - the table got inheritance children: their rows are not filled; the
//    job fails.
#pragma once
#include "core/cpp_only.hpp"

#include <string>

namespace colmig::core {

enum class TriggerCondition { intact, changed, disabled, missing };

// Where the worker looks.
enum class ProofPoint {
  backfill,     // a batch of the first pass: only a lost trigger matters
  sweep,        // a batch of the sweep
  verify,       // after the sweep
  trigger_drop, // before the fill trigger is dropped (nullable column)
};

struct ProofObservation {
  bool rewritten = false; // relfilenode differs from the sweep's baseline
  TriggerCondition trigger = TriggerCondition::intact;
  // The fill trigger left rows NULL (errors) since the sweep began.
  bool fill_errors = false;
  bool has_children = false;
  bool triggers_after_fill = false;
};

enum class ProofVerdict { holds, restart_sweep, broken };

struct ProofJudgement {
  ProofVerdict verdict = ProofVerdict::holds;
  std::string reason; // why, for the log or the job's last_error
};

// A sweep starts again at most this often; then the job fails.
inline constexpr int kMaxSweepRestarts = 10;

ProofJudgement judge_proof(ProofPoint point, const ProofObservation &seen,
                           int restarts_so_far);

} // namespace colmig::core
