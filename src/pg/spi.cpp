#include "pg/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/plancache.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

#include <cstring>

namespace colmig::pg {

namespace {

Datum datum_of_text(const std::string &value) {
  const char *data = value.c_str();
  auto length = static_cast<int>(value.size());
  return call([&] { return PointerGetDatum(cstring_to_text_with_len(data, length)); });
}

// Reads column `column` (0-based) of row `row` as a Datum of the expected type.
std::optional<Datum> get_datum(std::uint64_t row, int column, Oid expected) {
  bool isnull = true;
  Datum value = call([&] {
    if (SPI_tuptable == nullptr || row >= SPI_processed ||
        column >= SPI_tuptable->tupdesc->natts)
      elog(ERROR, "colmig: no value at row %lu column %d",
           static_cast<unsigned long>(row), column);
    if (SPI_gettypeid(SPI_tuptable->tupdesc, column + 1) != expected)
      elog(ERROR, "colmig: column %d has type %u, expected %u", column,
           SPI_gettypeid(SPI_tuptable->tupdesc, column + 1), expected);
    return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column + 1,
                         &isnull);
  });
  if (isnull)
    return std::nullopt;
  return value;
}

// The kept plans, by their text: a few statements, for the life of the
// backend. A fixed array: nothing to allocate, nothing to free.
struct KeptPlan {
  const char *sql; // the plan cache's own copy
  SPIPlanPtr plan;
  boost::container::static_vector<Oid, 8> types;
};
constexpr std::size_t kMostKeptPlans = 32;
boost::container::static_vector<KeptPlan, kMostKeptPlans> kept_plans;

// Inside pg::call.
const KeptPlan &kept_plan(const char *sql, const Param *params, int count) {
  for (const KeptPlan &kept : kept_plans)
    if (std::strcmp(kept.sql, sql) == 0) {
      bool same = static_cast<int>(kept.types.size()) == count;
      for (int i = 0; same && i < count; ++i)
        same = kept.types[static_cast<std::size_t>(i)] == params[i].type;
      if (!same)
        elog(ERROR, "colmig: kept statement called with other parameter types: %s", sql);
      return kept;
    }
  if (kept_plans.size() == kMostKeptPlans || count > 8)
    elog(ERROR, "colmig: too many kept statements, or too many parameters: %s", sql);
  Oid types[8];
  for (int i = 0; i < count; ++i)
    types[i] = params[i].type;
  SPIPlanPtr plan = SPI_prepare(sql, count, types);
  if (plan == nullptr)
    elog(ERROR, "colmig: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
  if (SPI_keepplan(plan) != 0)
    elog(ERROR, "colmig: SPI_keepplan failed");
  List *sources = SPI_plan_get_plan_sources(plan);
  if (list_length(sources) != 1)
    elog(ERROR, "colmig: a kept statement must be exactly one statement: %s", sql);
  KeptPlan kept{
      static_cast<CachedPlanSource *>(linitial(sources))->query_string, plan, {}};
  kept.types.assign(types, types + count);
  kept_plans.push_back(kept);
  return kept_plans.back();
}

} // namespace

Param text_param(const std::string &value) {
  return {TEXTOID, datum_of_text(value), false};
}

Param text_param(const std::optional<std::string> &value) {
  if (!value)
    return {TEXTOID, 0, true};
  return text_param(*value);
}

Param text_array_param(const std::string *values, std::size_t count) {
  auto *elements =
      static_cast<Datum *>(call([&] { return palloc(sizeof(Datum) * (count + 1)); }));
  for (std::size_t i = 0; i < count; ++i)
    elements[i] = datum_of_text(values[i]);
  const int length = static_cast<int>(count);
  return {TEXTARRAYOID, call([&] {
            return PointerGetDatum(
                construct_array(elements, length, TEXTOID, -1, false, TYPALIGN_INT));
          }),
          false};
}

Param int8_array_param(const std::int64_t *values, std::size_t count) {
  return {INT8ARRAYOID, call([&] {
            auto *elements = static_cast<Datum *>(palloc(sizeof(Datum) * (count + 1)));
            for (std::size_t i = 0; i < count; ++i)
              elements[i] = Int64GetDatum(values[i]);
            return PointerGetDatum(construct_array(elements, static_cast<int>(count),
                                                   INT8OID, sizeof(std::int64_t),
                                                   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
          }),
          false};
}

Param int8_param(std::int64_t value) { return {INT8OID, Int64GetDatum(value), false}; }
Param int4_param(std::int32_t value) { return {INT4OID, Int32GetDatum(value), false}; }
Param oid_param(Oid value) { return {OIDOID, ObjectIdGetDatum(value), false}; }
Param bool_param(bool value) { return {BOOLOID, BoolGetDatum(value), false}; }
Param float8_param(double value) { return {FLOAT8OID, Float8GetDatum(value), false}; }
Param timestamptz_param(std::int64_t value) {
  return {TIMESTAMPTZOID, Int64GetDatum(value), false};
}
Param null_param(Oid type) { return {type, 0, true}; }

std::uint64_t execute(const std::string &sql, std::initializer_list<Param> params,
                      bool read_only) {
  const char *query = sql.c_str();
  const Param *first = params.begin();
  int count = static_cast<int>(params.size());
  return call([&]() -> std::uint64_t {
    // Callers read a result before their next statement; freeing it here
    // keeps a long poll (colmig.wait) from growing SPI's memory.
    if (SPI_tuptable != nullptr)
      SPI_freetuptable(SPI_tuptable);
    Oid *types = static_cast<Oid *>(palloc0(sizeof(Oid) * (count + 1)));
    Datum *values = static_cast<Datum *>(palloc0(sizeof(Datum) * (count + 1)));
    char *nulls = static_cast<char *>(palloc0(count + 1));
    for (int i = 0; i < count; ++i) {
      types[i] = first[i].type;
      values[i] = first[i].value;
      nulls[i] = first[i].isnull ? 'n' : ' ';
    }
    int rc = SPI_execute_with_args(query, count, types, values, nulls, read_only, 0);
    pfree(types);
    pfree(values);
    pfree(nulls);
    if (rc < 0)
      elog(ERROR, "colmig: SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
    return SPI_processed;
  });
}

std::uint64_t execute_kept(const char *sql, std::initializer_list<Param> params,
                           bool read_only) {
  const Param *first = params.begin();
  int count = static_cast<int>(params.size());
  return call([&]() -> std::uint64_t {
    if (SPI_tuptable != nullptr)
      SPI_freetuptable(SPI_tuptable);
    const KeptPlan &kept = kept_plan(sql, first, count);
    Datum values[8];
    char nulls[8];
    for (int i = 0; i < count; ++i) {
      values[i] = first[i].value;
      nulls[i] = first[i].isnull ? 'n' : ' ';
    }
    int rc = SPI_execute_plan(kept.plan, values, nulls, read_only, 0);
    if (rc < 0)
      elog(ERROR, "colmig: SPI_execute_plan failed: %s", SPI_result_code_string(rc));
    return SPI_processed;
  });
}

std::uint64_t result_rows() { return SPI_processed; }

std::optional<std::string> get_text(std::uint64_t row, int column) {
  bool isnull = true;
  char *value = call([&]() -> char * {
    if (SPI_tuptable == nullptr || row >= SPI_processed)
      elog(ERROR, "colmig: no row %lu", static_cast<unsigned long>(row));
    SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column + 1, &isnull);
    if (isnull)
      return nullptr;
    return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column + 1);
  });
  if (value == nullptr)
    return std::nullopt;
  std::string copy(value);
  // SPI_getvalue pallocs in the caller's context: a long poll
  // (colmig.wait) would otherwise grow it by a copy per call.
  pfree(value);
  return copy;
}

std::optional<std::int64_t> get_int64(std::uint64_t row, int column) {
  auto datum = get_datum(row, column, INT8OID);
  if (!datum)
    return std::nullopt;
  return DatumGetInt64(*datum);
}

bool get_text_array(std::uint64_t row, int column, std::string *values,
                    std::size_t count) {
  auto datum = get_datum(row, column, TEXTARRAYOID);
  if (!datum)
    return false;
  Datum *elements = nullptr;
  bool *nulls = nullptr;
  int length = 0;
  call([&] {
    deconstruct_array(DatumGetArrayTypeP(*datum), TEXTOID, -1, false, TYPALIGN_INT,
                      &elements, &nulls, &length);
  });
  if (length != static_cast<int>(count))
    return false;
  for (std::size_t i = 0; i < count; ++i)
    values[i] = nulls[i] ? std::string() : std::string(call([&] {
      return text_to_cstring(DatumGetTextPP(elements[i]));
    }));
  return true;
}

namespace {

void for_each_element(std::uint64_t row, int column, Oid array_type, Oid element_type,
                      int element_length, bool by_value, char align,
                      const std::function<void(Datum, bool)> &each) {
  auto datum = get_datum(row, column, array_type);
  if (!datum)
    return;
  Datum *elements = nullptr;
  bool *nulls = nullptr;
  int length = 0;
  call([&] {
    deconstruct_array(DatumGetArrayTypeP(*datum), element_type, element_length, by_value,
                      align, &elements, &nulls, &length);
  });
  for (int i = 0; i < length; ++i)
    each(elements[i], nulls[i]);
}

} // namespace

void for_each_text(std::uint64_t row, int column,
                   const std::function<void(std::string)> &each) {
  for_each_element(row, column, TEXTARRAYOID, TEXTOID, -1, false, TYPALIGN_INT,
                   [&](Datum element, bool isnull) {
                     each(isnull ? std::string() : std::string(call([&] {
                       return text_to_cstring(DatumGetTextPP(element));
                     })));
                   });
}

void for_each_int64(std::uint64_t row, int column,
                    const std::function<void(std::int64_t)> &each) {
  for_each_element(
      row, column, INT8ARRAYOID, INT8OID, 8, true, TYPALIGN_DOUBLE,
      [&](Datum element, bool isnull) { each(isnull ? 0 : DatumGetInt64(element)); });
}

void raise_too_many_elements(std::size_t capacity) {
  raise("XX000", "colmig: an array has more than " + std::to_string(capacity) +
                     " elements where colmig keeps at most that many");
}

std::optional<bool> get_bool(std::uint64_t row, int column) {
  auto datum = get_datum(row, column, BOOLOID);
  if (!datum)
    return std::nullopt;
  return DatumGetBool(*datum);
}

std::optional<double> get_float8(std::uint64_t row, int column) {
  auto datum = get_datum(row, column, FLOAT8OID);
  if (!datum)
    return std::nullopt;
  return DatumGetFloat8(*datum);
}

SpiConnection::SpiConnection() {
  call([] {
    if (SPI_connect() != SPI_OK_CONNECT)
      elog(ERROR, "colmig: SPI_connect failed");
  });
}

SpiConnection::~SpiConnection() {
  // SPI_finish does not ereport once connected; on an error path the
  // transaction abort cleans SPI up instead.
  SPI_finish();
}

std::string quote_ident(const std::string &ident) {
  const char *raw = ident.c_str();
  return std::string(call([&] { return quote_identifier(raw); }));
}

std::string quote_literal(const std::string &value) {
  const char *raw = value.c_str();
  return std::string(call([&] { return quote_literal_cstr(raw); }));
}

} // namespace colmig::pg
