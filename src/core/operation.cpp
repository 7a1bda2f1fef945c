#include "core/operation.hpp"
#include "core/name_table.hpp"

namespace colmig::core {

namespace {

constexpr NameTable<Operation, 8> kOperationNames{{
    {Operation::add_column, "add_column"},
    {Operation::set_not_null, "set_not_null"},
    {Operation::add_check, "add_check"},
    {Operation::add_foreign_key, "add_foreign_key"},
    {Operation::validate_constraint, "validate_constraint"},
    {Operation::create_index, "create_index"},
    {Operation::drop_index, "drop_index"},
    {Operation::fill_shard, "fill_shard"},
}};

} // namespace

const char *to_string(Operation operation) { return name_in(kOperationNames, operation); }

bool has_table_helpers(Operation operation) {
  return operation == Operation::add_column || operation == Operation::set_not_null ||
         operation == Operation::fill_shard;
}

std::optional<Operation> parse_operation(std::string_view text) {
  return value_in(kOperationNames, text);
}

} // namespace colmig::core
