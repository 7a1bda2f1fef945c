// SPI behind the guard: statements with $n parameters, never with values
// spliced in, and results read into C++ values.
#pragma once

#include "pg/guard.hpp"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

extern "C" {
#include "catalog/pg_type_d.h"
}

namespace colmig::pg {

struct Param {
  Oid type;
  Datum value;
  bool isnull;
};

Param text_param(const std::string &value);
Param text_param(const std::optional<std::string> &value);
Param int8_param(std::int64_t value);
Param int4_param(std::int32_t value);
Param oid_param(Oid value);
Param bool_param(bool value);
Param float8_param(double value);
Param timestamptz_param(std::int64_t value); // a TimestampTz
Param null_param(Oid type);
// A text[] or bigint[] of `count` values.
Param text_array_param(const std::string *values, std::size_t count);
Param int8_array_param(const std::int64_t *values, std::size_t count);

// Runs one statement through SPI; the caller must be connected. Returns the
// number of rows processed. `read_only` statements share the caller's
// snapshot; others take a fresh one in READ COMMITTED.
std::uint64_t execute(const std::string &sql, std::initializer_list<Param> params = {},
                      bool read_only = false);

// Values of the last statement's result, row and column counted from 0.
std::uint64_t result_rows();
std::optional<std::string> get_text(std::uint64_t row, int column);
std::optional<std::int64_t> get_int64(std::uint64_t row, int column);
std::optional<bool> get_bool(std::uint64_t row, int column);
std::optional<double> get_float8(std::uint64_t row, int column);
// A text[] of exactly `count` elements (NULL elements read as ""); false
// when it is NULL or has another length.
bool get_text_array(std::uint64_t row, int column, std::string *values,
                    std::size_t count);

// Connects SPI for the lifetime of the object (SQL functions).
class SpiConnection {
public:
  SpiConnection();
  ~SpiConnection();
  SpiConnection(const SpiConnection &) = delete;
  SpiConnection &operator=(const SpiConnection &) = delete;
};

// Identifier and literal quoting, as PostgreSQL does it.
std::string quote_ident(const std::string &ident);
std::string quote_literal(const std::string &value);

} // namespace colmig::pg
