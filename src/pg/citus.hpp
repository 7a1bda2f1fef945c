// What colmig needs to know about Citus, read from its catalog through SPI
// (colmig never includes a Citus header and never needs Citus to build):
// which tables are distributed and how, where their shard placements are,
// and how to run a command on another node. See docs/citus.md.
#pragma once
#include "pg/context_allocator.hpp"
#include "pg/error.hpp"
#include "pg/postgres.hpp"

#include <boost/container/vector.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace colmig::pg::citus {

// How Citus keeps a table's rows (pg_dist_partition).
enum class TableKind {
  hash,      // distributed by hash: each shard has its rows on one node
  reference, // one shard, a full copy on every node
  other,     // append or range distributed, a Citus local or single-shard table
};

struct Table {
  TableKind kind;
  std::string description; // "append-distributed", for messages
  // The most placements any shard has: above one, every placement must
  // come out the same (a reference table, a replication factor above 1).
  std::int64_t max_placements;
};

// Whether the citus extension is created in this database.
bool installed();

// Nothing for a table Citus does not manage (and where Citus is not there).
std::optional<Table> table(Oid relid);

// Whether this node is the coordinator (where Citus wants DDL).
bool is_coordinator();

// Whether `relid` is a shard of a Citus table (a placement on this node).
bool is_shard(Oid relid);

// The shard placement `shardid` on this node, or nothing.
std::optional<Oid> shard_relation(std::int64_t shardid);

struct Placement {
  std::int64_t shardid;
  std::string node; // host name as Citus knows it
  std::int32_t port;
};
using Placements = boost::container::vector<Placement, ContextAllocator<Placement>>;

// Every placement of every shard of `relid` on a primary node, in a stable
// order (node, port, shard).
Placements placements(Oid relid);

// What a node answered to one command.
struct Answer {
  bool reached;     // the command ran and returned; else `text` says why not
  std::string text; // its single value, or the error
};
using Answers = boost::container::vector<Answer, ContextAllocator<Answer>>;

// Runs `commands[i]` on placement `on[i]`'s node, all at once, each in its
// own connection and transaction there (Citus's master_run_on_worker): what
// they commit stays committed whatever this transaction does. A node that
// is down answers with reached = false.
Answers run_on_nodes(const Placements &on, const std::string *commands);

// Whether `error` says Citus lost its connection to another node (one
// restarting, or gone since the connection was cached): worth another try.
// Citus raises some of these without a SQLSTATE of their own (XX000).
bool lost_node_connection(const Error &error);

// In this transaction, lock_timeout `value` for this node and for every
// node a statement reaches through Citus (its shard locks): Citus passes
// on SET LOCAL commands, and only those, with citus.propagate_set_commands.
void set_local_lock_timeout_everywhere(const char *value);

// For this session: the shard placements on this node are visible in
// pg_class and may be changed directly (a fill_shard job works on one).
// Nothing where Citus is not loaded.
void allow_shard_access();
// The same for the rest of this transaction (SET LOCAL).
void allow_shard_access_here();

} // namespace colmig::pg::citus
