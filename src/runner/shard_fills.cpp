#include "runner/shard_fills.hpp"

#include "core/helper_names.hpp"

#include "catalog/shard_jobs.hpp"
#include "pg/relation.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "runner/as_job_owner.hpp"
#include "runner/job_table.hpp"

#include <string>

namespace colmig::runner {

namespace {

const char *to_string(ShardAction action) {
  switch (action) {
  case ShardAction::run:
    return "run";
  case ShardAction::pause:
    return "pause";
  case ShardAction::cancel:
    return "cancel";
  case ShardAction::release:
    return "release";
  }
  return "status";
}

// What a node needs to create the placement's job: the fill expression
// deparsed with its implicit casts, under colmig's pinned search_path (so
// schema-qualified where it must be) with the creator's settings, which the node parses
// back the same way, and the job's options. `coordinator` tells this cluster's jobs from
// those of another coordinator with the same job ids.
std::string shard_spec(const catalog::Job &job) {
  std::string fill;
  {
    AsJobOwner owner(job, SearchPath::pinned);
    fill = pg::deparse_expression_exactly(*job.fill_node, job.relid);
  }
  pg::execute(
      R"sql(
SELECT pg_catalog.jsonb_build_object(
         'column', $1::text, 'fill', $2::text, 'settings', pg_catalog.to_jsonb($3::text[]),
         'not_null', $4::bool, 'batch_size', $5::int4, 'throttle', $6::bool,
         'parallel', $7::int4, 'compact', $8::bool, 'fire_triggers', $9::bool,
         'coordinator', (SELECT system_identifier::text FROM pg_catalog.pg_control_system()))::text)sql",
      {pg::text_param(job.column), pg::text_param(fill),
       pg::text_array_param(job.settings.data(), job.settings.size()),
       pg::bool_param(job.not_null),
       job.batch_size ? pg::int4_param(*job.batch_size) : pg::null_param(INT4OID),
       pg::bool_param(job.throttle), pg::int4_param(job.parallel),
       pg::bool_param(job.compact), pg::bool_param(job.fire_triggers)});
  return *pg::get_text(0, 0);
}

bool same_placements(const pg::citus::Placements &a, const pg::citus::Placements &b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].shardid != b[i].shardid || a[i].node != b[i].node || a[i].port != b[i].port)
      return false;
  return true;
}

// Where the action goes: for run and release, the table's placements now,
// which must be those the job has been filling.
pg::citus::Placements placements_for(const catalog::Job &job, ShardAction action) {
  pg::citus::Placements recorded = catalog::recorded_placements(job.id);
  if (action == ShardAction::pause || action == ShardAction::cancel)
    return recorded;
  pg::citus::Placements now = pg::citus::placements(job.relid);
  if (now.empty())
    pg::raise("55000", job.relation + " has no shard placements");
  if (!recorded.empty() && !same_placements(recorded, now))
    pg::raise("55000",
              "the shard placements of " + job.relation + " changed while colmig job " +
                  std::to_string(job.id) +
                  " filled them (a shard was moved, split or copied)",
              "A placement made meanwhile had no fill trigger, so its rows cannot be "
              "shown filled.",
              "Create a new job for the column; it fills only the rows still NULL.");
  return now;
}

} // namespace

void drop_distributed_check(const catalog::Job &job, DropAs as) {
  const std::string check = core::not_null_check_name(job.id);
  // regclass output under colmig's pinned search_path: quoted, qualified.
  pg::execute(
      "SELECT pg_catalog.quote_ident(c.conname::text), c.conrelid::regclass::text "
      "FROM pg_catalog.pg_constraint c "
      "WHERE c.conrelid = $1 AND c.conname = $2 AND c.contype = 'c' "
      "AND pg_catalog.pg_get_constraintdef(c.oid) LIKE '%colmig.check_of_job(%'",
      {pg::oid_param(job.relid), pg::text_param(check)});
  if (pg::result_rows() == 0)
    return;
  const std::string quoted = *pg::get_text(0, 0);
  const std::string table = *pg::get_text(0, 1);
  // IF EXISTS: a node may have lost its copy (a node restored, a check
  // dropped there by hand); the others still drop theirs.
  const std::string drop =
      "ALTER TABLE " + table + " DROP CONSTRAINT IF EXISTS " + quoted;
  if (as == DropAs::owner)
    run_as_owner(job, drop);
  else
    pg::execute(drop);
}

void ask_shards(const catalog::Job &job, ShardAction action) {
  const pg::citus::Placements placements = placements_for(job, action);
  if (placements.empty())
    return;
  const std::string call_prefix =
      "SELECT colmig.shard_fill(" + std::to_string(job.id) + ", ";
  const std::string call_suffix = ", " + pg::quote_literal(to_string(action)) + ", " +
                                  pg::quote_literal(shard_spec(job)) + ")";
  boost::container::vector<std::string, pg::ContextAllocator<std::string>> commands{
      pg::ContextAllocator<std::string>(CurrentMemoryContext)};
  for (const pg::citus::Placement &placement : placements)
    commands.push_back(call_prefix + std::to_string(placement.shardid) + call_suffix);
  const pg::citus::Answers answers = pg::citus::run_on_nodes(placements, commands.data());
  const bool stopping = action == ShardAction::pause || action == ShardAction::cancel;
  for (std::size_t i = 0; i < placements.size() && i < answers.size(); ++i) {
    const pg::citus::Answer &answer = answers[i];
    if (stopping && !answer.reached)
      pg::raise("55000",
                std::string("could not ") + to_string(action) + " the job of shard " +
                    std::to_string(placements[i].shardid) + " on " + placements[i].node +
                    ":" + std::to_string(placements[i].port) + ": " + answer.text,
                {},
                "colmig tries again; the shard job goes on until its node is reached.");
    // master_run_on_worker reports an error the command raised as
    // "ERROR:  ..."; anything else that did not succeed is a node it could
    // not reach (down, restarting), asked again at the next look.
    if (!answer.reached && answer.text.rfind("ERROR:", 0) == 0)
      catalog::record_shard_error(job.id, placements[i], answer.text);
    else
      catalog::record_shard_answer(job.id, placements[i], answer.reached, answer.text);
  }
}

void pass_pause_on(const catalog::Job &job) {
  try {
    pg::in_transaction("colmig: pausing shard jobs", [&] {
      if (catalog::load_state(job.id) != core::JobState::paused)
        return;
      ask_shards(job, ShardAction::pause);
      catalog::mark_pause_passed_on(job.id);
    });
  } catch (const pg::Error &error) {
    elog(LOG, "colmig: job %ld: %s", static_cast<long>(job.id), error.what());
  }
}

} // namespace colmig::runner
