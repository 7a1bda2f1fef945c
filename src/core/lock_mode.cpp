#include "core/lock_mode.hpp"

#include <array>

namespace colmig::core {

namespace {

// One row per mode, in enum order: the modes it conflicts with, as bits of
// their enum values.
constexpr unsigned bit(LockMode mode) { return 1u << static_cast<unsigned>(mode); }

constexpr std::array<unsigned, kLockModes> kConflicts{
    /* access_share */ bit(LockMode::access_exclusive),
    /* row_share */ bit(LockMode::exclusive) | bit(LockMode::access_exclusive),
    /* row_exclusive */ bit(LockMode::share) | bit(LockMode::share_row_exclusive) |
        bit(LockMode::exclusive) | bit(LockMode::access_exclusive),
    /* share_update_exclusive */ bit(LockMode::share_update_exclusive) |
        bit(LockMode::share) | bit(LockMode::share_row_exclusive) |
        bit(LockMode::exclusive) | bit(LockMode::access_exclusive),
    /* share */ bit(LockMode::row_exclusive) | bit(LockMode::share_update_exclusive) |
        bit(LockMode::share_row_exclusive) | bit(LockMode::exclusive) |
        bit(LockMode::access_exclusive),
    /* share_row_exclusive */ bit(LockMode::row_exclusive) |
        bit(LockMode::share_update_exclusive) | bit(LockMode::share) |
        bit(LockMode::share_row_exclusive) | bit(LockMode::exclusive) |
        bit(LockMode::access_exclusive),
    /* exclusive */ bit(LockMode::row_share) | bit(LockMode::row_exclusive) |
        bit(LockMode::share_update_exclusive) | bit(LockMode::share) |
        bit(LockMode::share_row_exclusive) | bit(LockMode::exclusive) |
        bit(LockMode::access_exclusive),
    /* access_exclusive */ 0xffu,
};

struct Names {
  const char *sql;
  const char *view;
};
constexpr std::array<Names, kLockModes> kNames{{
    {"ACCESS SHARE", "AccessShareLock"},
    {"ROW SHARE", "RowShareLock"},
    {"ROW EXCLUSIVE", "RowExclusiveLock"},
    {"SHARE UPDATE EXCLUSIVE", "ShareUpdateExclusiveLock"},
    {"SHARE", "ShareLock"},
    {"SHARE ROW EXCLUSIVE", "ShareRowExclusiveLock"},
    {"EXCLUSIVE", "ExclusiveLock"},
    {"ACCESS EXCLUSIVE", "AccessExclusiveLock"},
}};

bool known(LockMode mode) { return static_cast<std::size_t>(mode) < kNames.size(); }

} // namespace

bool conflicts(LockMode held, LockMode requested) {
  return (kConflicts[static_cast<std::size_t>(held)] & bit(requested)) != 0;
}

bool covers(LockMode held, LockMode requested) {
  const auto h = kConflicts[static_cast<std::size_t>(held)];
  const auto r = kConflicts[static_cast<std::size_t>(requested)];
  return (h & r) == r;
}

Blocks blocks(LockMode mode) {
  if (conflicts(mode, LockMode::access_share))
    return Blocks::reads_and_writes;
  if (conflicts(mode, LockMode::row_exclusive))
    return Blocks::writes;
  return Blocks::nothing;
}

const char *to_string(LockMode mode) {
  return known(mode) ? kNames[static_cast<std::size_t>(mode)].sql : "unknown";
}

const char *lock_view_name(LockMode mode) {
  return known(mode) ? kNames[static_cast<std::size_t>(mode)].view : "unknown";
}

const char *to_string(Blocks blocked) {
  switch (blocked) {
  case Blocks::nothing:
    return "nothing";
  case Blocks::writes:
    return "writes";
  case Blocks::reads_and_writes:
    return "reads and writes";
  }
  return "unknown";
}

} // namespace colmig::core
