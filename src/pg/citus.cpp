#include "pg/citus.hpp"

#include "pg/spi.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace colmig::pg::citus {

bool installed() {
  pg::execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus'", {}, true);
  return pg::result_rows() > 0;
}

std::optional<Table> table(Oid relid) {
  if (!installed())
    return std::nullopt;
  // partmethod: h hash, a append, r range, n none (reference, local or
  // single-shard); repmodel t: replicated by two-phase commit (reference).
  pg::execute(R"sql(
SELECT p.partmethod::text, p.repmodel::text,
       (SELECT coalesce(max(n), 0) FROM (
            SELECT count(*) AS n FROM pg_catalog.pg_dist_shard s
              JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
             WHERE s.logicalrelid = p.logicalrelid GROUP BY s.shardid) c)::int8
  FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1)sql",
              {pg::oid_param(relid)}, true);
  if (pg::result_rows() == 0)
    return std::nullopt;
  const std::string method = pg::get_text(0, 0).value_or("");
  const std::string model = pg::get_text(0, 1).value_or("");
  Table found{TableKind::other, "", pg::get_int64(0, 2).value_or(0)};
  if (method == "h") {
    found.kind = TableKind::hash;
    found.description = "hash-distributed";
  } else if (method == "n" && model == "t") {
    found.kind = TableKind::reference;
    found.description = "a reference table";
  } else if (method == "a") {
    found.description = "append-distributed";
  } else if (method == "r") {
    found.description = "range-distributed";
  } else {
    found.description = "a Citus local or single-shard table";
  }
  return found;
}

bool is_coordinator() {
  pg::execute("SELECT pg_catalog.citus_is_coordinator()", {}, true);
  return pg::get_bool(0, 0).value_or(false);
}

bool is_shard(Oid relid) {
  pg::execute("SELECT pg_catalog.relation_is_a_known_shard($1)", {pg::oid_param(relid)},
              true);
  return pg::get_bool(0, 0).value_or(false);
}

std::optional<Oid> shard_relation(std::int64_t shardid) {
  // shard_name() leaves the schema out for public, whatever search_path.
  pg::execute(R"sql(
SELECT pg_catalog.to_regclass(CASE WHEN c.relnamespace = 'public'::regnamespace
                                   THEN 'public.' ELSE '' END
                              || pg_catalog.shard_name(s.logicalrelid, s.shardid))::oid::int8
  FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_class c ON c.oid = s.logicalrelid
 WHERE s.shardid = $1)sql",
              {pg::int8_param(shardid)}, true);
  if (pg::result_rows() == 0)
    return std::nullopt;
  const auto relid = pg::get_int64(0, 0);
  if (!relid)
    return std::nullopt;
  return static_cast<Oid>(*relid);
}

Placements placements(Oid relid) {
  pg::execute(R"sql(
SELECT s.shardid, n.nodename::text, n.nodeport::int8
  FROM pg_catalog.pg_dist_shard s
  JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
  JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'
 WHERE s.logicalrelid = $1
 ORDER BY n.nodename, n.nodeport, s.shardid)sql",
              {pg::oid_param(relid)}, true);
  Placements found{ContextAllocator<Placement>(CurrentMemoryContext)};
  for (std::uint64_t row = 0; row < pg::result_rows(); ++row)
    found.push_back(Placement{*pg::get_int64(row, 0), *pg::get_text(row, 1),
                              static_cast<std::int32_t>(*pg::get_int64(row, 2))});
  return found;
}

Answers run_on_nodes(const Placements &on, const std::string *commands) {
  boost::container::vector<std::string, ContextAllocator<std::string>> nodes{
      ContextAllocator<std::string>(CurrentMemoryContext)};
  boost::container::vector<std::int64_t, ContextAllocator<std::int64_t>> ports{
      ContextAllocator<std::int64_t>(CurrentMemoryContext)};
  for (const Placement &placement : on) {
    nodes.push_back(placement.node);
    ports.push_back(placement.port);
  }
  Answers answers{ContextAllocator<Answer>(CurrentMemoryContext)};
  if (on.empty())
    return answers;
  // In the order given (WITH ORDINALITY): one answer per command.
  pg::execute("SELECT r.success, r.result FROM pg_catalog.master_run_on_worker("
              "$1, $2::int4[], $3, true) WITH ORDINALITY AS r(node_name, node_port, "
              "success, result, n) ORDER BY r.n",
              {pg::text_array_param(nodes.data(), nodes.size()),
               pg::int8_array_param(ports.data(), ports.size()),
               pg::text_array_param(commands, on.size())});
  for (std::uint64_t row = 0; row < pg::result_rows(); ++row)
    answers.push_back(
        Answer{pg::get_bool(row, 0).value_or(false), pg::get_text(row, 1).value_or("")});
  return answers;
}

bool lost_node_connection(const Error &error) {
  if (error.sqlstate().rfind("08", 0) == 0)
    return true;
  const std::string message = error.what();
  return message.rfind("failure on connection marked as essential", 0) == 0 ||
         message.rfind("connection to the remote node", 0) == 0;
}

void set_local_lock_timeout_everywhere(const char *value) {
  if (pg::call([] {
        return GetConfigOption("citus.propagate_set_commands", true, false);
      }) == nullptr)
    return;
  // Citus passes a SET LOCAL on only inside what it counts as a
  // multi-statement transaction; a worker's transaction is not one, a DO
  // block is. What it passed on stays for the rest of the transaction, and
  // goes to every node it opens a transaction on later.
  pg::execute("DO $colmig$BEGIN SET LOCAL citus.propagate_set_commands = 'local'; "
              "SET LOCAL lock_timeout = " +
              pg::quote_literal(value) + "; END$colmig$");
}

namespace {

void allow_shard_access(GucAction action) {
  pg::call([&] {
    for (const char *name :
         {"citus.override_table_visibility", "citus.enable_manual_changes_to_shards"}) {
      if (GetConfigOption(name, true, false) == nullptr)
        continue;
      const bool visibility = strcmp(name, "citus.override_table_visibility") == 0;
      (void)set_config_option(name, visibility ? "off" : "on", PGC_SUSET, PGC_S_SESSION,
                              action, true, 0, false);
    }
  });
}

} // namespace

void allow_shard_access() { allow_shard_access(GUC_ACTION_SET); }

void allow_shard_access_here() { allow_shard_access(GUC_ACTION_LOCAL); }

} // namespace colmig::pg::citus
