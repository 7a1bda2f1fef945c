// The backfill's proof (core/fill_proof.hpp), at the PostgreSQL boundary:
// what the worker observes of the table and of the fill trigger, and what
// it does with core::judge_proof's verdict.
#pragma once
#include "core/fill_proof.hpp"

#include "catalog/job.hpp"

namespace colmig::runner {

struct Observation {
  core::ProofObservation seen;
  catalog::SweepBaseline now; // what a sweep beginning now would rest on
};

// Inside a transaction.
Observation observe(const catalog::Job &job);

// Inside the transaction of `point`: raises 55000 when the proof is broken;
// starts the sweep again (and returns true) when it must be redone, so the
// caller commits that instead of its own work; false when the proof holds.
bool check_proof(catalog::Job &job, core::ProofPoint point, const Observation &seen);

// Begins the sweep: its baseline is the table and trigger as they are now.
void begin_sweep(catalog::Job &job, const Observation &now, bool restart);

// Pages of the table now.
std::int64_t relation_pages(Oid relid);

} // namespace colmig::runner
