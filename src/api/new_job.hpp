// What every SQL function that creates a job shares: the common options
// (throttle, window_start, window_end, start_at), the caller's evaluation
// settings, and storing the job with its operation, arguments and plan.
#pragma once
#include "core/evaluation_settings.hpp"
#include "core/operation.hpp"
#include "core/plan.hpp"

#include "pg/postgres.hpp"

#include <boost/container/static_vector.hpp>

#include <cstdint>
#include <optional>
#include <string>

extern "C" {
#include "access/attnum.h"
#include "nodes/nodes.h"
#include "datatype/timestamp.h"
#include "utils/date.h"
}

namespace colmig::api {

struct JobOptions {
  bool throttle = true;
  // time values, both or neither.
  std::optional<TimeADT> window_start;
  std::optional<TimeADT> window_end;
  std::optional<TimestampTz> start_at;
};

// The four options from arguments `first` .. `first + 3` (throttle,
// window_start, window_end, start_at), checked: 22023/22008 when wrong.
JobOptions read_job_options(FunctionCallInfo fcinfo, int first);

// The caller's values of the settings a job's expressions are evaluated
// with (search_path with pg_temp last).
core::EvaluationSettings current_settings();

// A run window's minutes as stored (make_time of whole minutes).
std::optional<std::int32_t> window_minute(const std::optional<TimeADT> &value);

struct NewJob {
  core::Operation operation;
  Oid relid;
  std::string relation; // quoted, qualified
  std::string target;   // the column, constraint or index, for people
  std::optional<std::string> column;
  std::optional<AttrNumber> column_attnum;
  std::string args = "{}"; // JSON (pg/json.hpp)
  // What a validate_constraints step works through.
  const Oid *constraint_oids = nullptr;
  std::size_t constraint_count = 0;
  core::Plan plan;
  JobOptions options;
  // Analysed expressions (a List of them) whose objects the job protects
  // from DROP while it lives (catalog/dependencies.hpp).
  Node *depends_on = nullptr;
};

// Inserts the job (as colmig.jobs' owner, CatalogAccess) owned by the
// table's owner, with the caller's settings; wakes the launcher at commit.
std::int64_t insert_job(const NewJob &job);

// The owner of relation `relid`.
Oid table_owner(Oid relid);

// A name[] argument of column names: no NULL element (22004), at most
// INDEX_MAX_KEYS of them (54011); NULL reads as none.
using ColumnNames = boost::container::static_vector<std::string, 32>;
ColumnNames column_names_argument(FunctionCallInfo fcinfo, int index,
                                  const char *argument);

// A name argument that must be given and not be empty (22004, 42602).
std::string name_argument(FunctionCallInfo fcinfo, int index, const char *argument);

// No constraint of that name on the table, and no live job adding one
// (42710).
void check_constraint_name_free(const struct TargetTable &table, const std::string &name);

} // namespace colmig::api
