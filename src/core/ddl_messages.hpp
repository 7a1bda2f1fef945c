// The words colmig.plan() and the guard use for a judged DDL step
// (core/ddl_rules.hpp), so that both say the same thing the same way.
#pragma once
#include "core/cpp_only.hpp"
#include "core/ddl_rules.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace colmig::core {

// The session a lock request would queue behind, as pg_locks and
// pg_stat_activity show it.
struct LockBlocker {
  int pid = 0; // 0: a prepared transaction
  double transaction_seconds = 0;
  std::string state; // "idle in transaction", "active", ...
};

// A step as the boundary named it.
struct StepText {
  std::string_view action; // "ADD COLUMN \"at\""
  std::string_view table;  // "public.orders", empty when none
  std::string_view remark; // a fact of this step, may be empty
};

// "1000000 rows, 84 MB"
std::string describe_size(const TableFacts &table);
// "pid 4711 (in a transaction for 65 s, idle in transaction)"
std::string describe_blocker(const LockBlocker &blocker);

// colmig.plan()'s note: the verdict and rule first ("unsafe
// [volatile_default]: ..."), then what happens and why.
std::string plan_note(const Judgement &judgement, const StatementFacts &statement,
                      const TableFacts &table, const StepText &text,
                      const std::optional<LockBlocker> &blocker, double min_rows);

// The guard's message and detail for a step it warns about or refuses.
std::string guard_message(const Judgement &judgement, const StatementFacts &statement,
                          const TableFacts &table, const StepText &text,
                          const std::optional<LockBlocker> &blocker);
std::string guard_detail(const Judgement &judgement, const StepText &text);

} // namespace colmig::core
