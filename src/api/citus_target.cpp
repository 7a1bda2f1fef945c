#include "api/citus_target.hpp"

#include "pg/guard.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "optimizer/optimizer.h"
}

namespace colmig::api {

std::optional<pg::citus::Table> check_citus_table(const TargetTable &target) {
  pg::SpiConnection spi;
  if (!pg::citus::installed())
    return std::nullopt;
  if (pg::citus::is_shard(target.relid))
    pg::raise("0A000", target.qualified_name + " is a shard placement of a Citus table",
              {}, "Call colmig on the coordinator, with the distributed table.");
  auto table = pg::citus::table(target.relid);
  if (!table)
    return std::nullopt;
  if (table->kind == pg::citus::TableKind::other)
    pg::raise("0A000",
              "colmig cannot fill " + target.qualified_name + ": it is " +
                  table->description,
              "colmig fills hash-distributed and reference tables, shard by shard on "
              "the node holding each.",
              "Add the column with ALTER TABLE, or fill it with your own UPDATE.");
  if (!pg::citus::is_coordinator())
    pg::raise("0A000",
              "colmig jobs on the Citus table " + target.qualified_name +
                  " are created on the coordinator",
              "The coordinator adds the column through Citus and starts the shard "
              "jobs on every node.",
              "Connect to the coordinator and call it there.");
  return table;
}

const char *citus_kind_name(pg::citus::TableKind kind) {
  return kind == pg::citus::TableKind::reference ? "reference" : "hash";
}

void check_fill_replicable(const pg::citus::Table &table, const TargetTable &target,
                           const AnalysedExpression &fill) {
  if (table.max_placements <= 1)
    return;
  Node *tree = fill.tree;
  if (pg::call([&] { return contain_mutable_functions(tree); }))
    pg::raise("0A000",
              "the fill expression must be immutable to fill " + target.qualified_name,
              "Its shards have " + std::to_string(table.max_placements) +
                  " placements each, filled each on its own node: a volatile or "
                  "stable expression would give them different values.",
              "Use an immutable expression that reads no column, or UPDATE the "
              "reference table through the coordinator.");
  // Placements are filled one after the other: a row the application
  // updates in between would be computed from its old version on one and
  // its new version on another (the fill trigger leaves a filled value).
  Bitmapset *columns = pg::call([&] {
    Bitmapset *found = nullptr;
    pull_varattnos(tree, 1, &found);
    return found;
  });
  if (columns != nullptr)
    pg::raise("0A000",
              "the fill expression of " + target.qualified_name +
                  " must not read its columns",
              "Its shards have " + std::to_string(table.max_placements) +
                  " placements each, filled one after the other: a row updated in "
                  "between would get a value from its old version on one placement "
                  "and from its new version on another.",
              "Fill it with a value that reads no column, or UPDATE the reference "
              "table through the coordinator.");
}

} // namespace colmig::api
