// add_column on a table Citus manages (docs/citus.md): what colmig can do
// there, checked in the caller's session, and refused at once (0A000)
// where it cannot.
#pragma once
#include "api/validate.hpp"
#include "pg/citus.hpp"

#include <optional>

namespace colmig::api {

// Nothing for a table Citus does not manage. For a hash-distributed or a
// reference table, called on the coordinator, its kind. Raises 0A000 for
// the other kinds, on a worker node, and for a shard placement itself.
std::optional<pg::citus::Table> check_citus_table(const TargetTable &table);

// How a job stores the kind in its args ("hash", "reference").
const char *citus_kind_name(pg::citus::TableKind kind);

// Where every shard has more than one placement (a reference table), each
// is filled on its own node: the fill must give every placement the same
// value, so it must be immutable (0A000).
void check_fill_replicable(const pg::citus::Table &table, const TargetTable &target,
                           const AnalysedExpression &fill);

} // namespace colmig::api
