// Enum <-> name lookups for the values colmig stores as text (job states,
// phases), from one table per enum.
#pragma once
#include "core/cpp_only.hpp"

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace colmig::core {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, const char *>, N>;

template <typename E, std::size_t N>
const char *name_in(const NameTable<E, N> &table, E value) {
  for (const auto &[entry, name] : table)
    if (entry == value)
      return name;
  return "unknown";
}

template <typename E, std::size_t N>
std::optional<E> value_in(const NameTable<E, N> &table, std::string_view text) {
  for (const auto &[entry, name] : table)
    if (text == name)
      return entry;
  return std::nullopt;
}

} // namespace colmig::core
