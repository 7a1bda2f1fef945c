// SPI behind the guard: statements with $n parameters, never with values
// spliced in, and results read into C++ values.
#pragma once

#include "pg/guard.hpp"

#include <boost/container/static_vector.hpp>

#include <cstdint>
#include <functional>
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

// The same for a statement the worker runs again and again (each batch's
// bookkeeping): parsed and planned once per backend, then kept (SPI_prepare,
// SPI_keepplan; PostgreSQL's plan cache replans it after a change to what it
// reads). For fixed texts only: at most 32 are kept, found by their text,
// and the parameters' types must be the same at every call.
std::uint64_t execute_kept(const char *sql, std::initializer_list<Param> params = {},
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

// The elements of a text[] or bigint[] value in order (NULL elements read
// as "" or 0); none for a NULL array. More than `N` elements raise XX000.
void for_each_text(std::uint64_t row, int column,
                   const std::function<void(std::string)> &each);
void for_each_int64(std::uint64_t row, int column,
                    const std::function<void(std::int64_t)> &each);
void raise_too_many_elements(std::size_t capacity);

template <std::size_t N>
boost::container::static_vector<std::string, N> get_text_list(std::uint64_t row,
                                                              int column) {
  boost::container::static_vector<std::string, N> values;
  for_each_text(row, column, [&](std::string value) {
    if (values.size() == N)
      raise_too_many_elements(N);
    values.push_back(std::move(value));
  });
  return values;
}

template <std::size_t N>
boost::container::static_vector<std::int64_t, N> get_int64_list(std::uint64_t row,
                                                                int column) {
  boost::container::static_vector<std::int64_t, N> values;
  for_each_int64(row, column, [&](std::int64_t value) {
    if (values.size() == N)
      raise_too_many_elements(N);
    values.push_back(value);
  });
  return values;
}

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
