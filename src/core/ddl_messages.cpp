#include "core/ddl_messages.hpp"

#include <cmath>
#include <cstdio>

namespace colmig::core {

namespace {

std::string format_seconds(double seconds) {
  char text[32];
  if (seconds < 1)
    return "under a second";
  if (seconds < 120)
    std::snprintf(text, sizeof text, "%.0f s", seconds);
  else if (seconds < 7200)
    std::snprintf(text, sizeof text, "%.0f min", seconds / 60);
  else
    std::snprintf(text, sizeof text, "%.1f h", seconds / 3600);
  return text;
}

std::string format_bytes(double bytes) {
  char text[32];
  if (bytes < 1024.0 * 1024)
    std::snprintf(text, sizeof text, "%.0f kB", bytes / 1024);
  else if (bytes < 1024.0 * 1024 * 1024)
    std::snprintf(text, sizeof text, "%.0f MB", bytes / (1024.0 * 1024));
  else
    std::snprintf(text, sizeof text, "%.1f GB", bytes / (1024.0 * 1024 * 1024));
  return text;
}

// "would rewrite", "would read every row of", ...
const char *effect(const StatementFacts &statement) {
  if (statement.rewrites)
    return "rewrites";
  if (statement.builds_index)
    return "builds an index on";
  if (statement.scans)
    return "reads every row of";
  return "locks";
}

std::string lock_phrase(const StatementFacts &statement, const Judgement &judgement) {
  if (!statement.lock)
    return "";
  std::string text = std::string(" under ") + to_string(*statement.lock);
  const Blocks blocked = blocks(*statement.lock);
  if (blocked != Blocks::nothing)
    text += std::string(", blocking ") + to_string(blocked);
  else
    text += ", blocking no reads or writes";
  if (statement.rewrites || statement.scans || statement.builds_index)
    text += judgement.estimated_seconds < 1
                ? std::string(", for under a second")
                : ", for about " + format_seconds(judgement.estimated_seconds);
  else if (blocked != Blocks::nothing)
    text += ", for a moment";
  return text;
}

// A remark as a sentence of its own.
std::string sentence(std::string_view remark) {
  std::string text(remark);
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z')
    text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return " " + text + ".";
}

} // namespace

std::string describe_size(const TableFacts &table) {
  char rows[32];
  std::snprintf(rows, sizeof rows, "%.0f", std::round(table.rows));
  return std::string(rows) + " rows, " + format_bytes(table.heap_bytes);
}

std::string describe_blocker(const LockBlocker &blocker) {
  std::string text = blocker.pid == 0 ? std::string("a prepared transaction")
                                      : "pid " + std::to_string(blocker.pid);
  text += " (in a transaction for " + (blocker.transaction_seconds < 1
                                           ? std::string("less than a second")
                                           : format_seconds(blocker.transaction_seconds));
  if (!blocker.state.empty())
    text += ", " + blocker.state;
  return text + ")";
}

std::string plan_note(const Judgement &judgement, const StatementFacts &statement,
                      const TableFacts &table, const StepText &text,
                      const std::optional<LockBlocker> &blocker, double min_rows) {
  std::string note = to_string(judgement.verdict);
  if (judgement.rule != DdlRule::none)
    note += std::string(" [") + rule_info(judgement.rule).name + "]";
  note += ": " + std::string(text.action);
  if (!text.table.empty()) {
    note += std::string(" ") + effect(statement) + " " + std::string(text.table);
    if (!table.created_in_transaction)
      note += " (" + describe_size(table) + ")";
  }
  note += lock_phrase(statement, judgement) + ".";
  if (!text.remark.empty())
    note += sentence(text.remark);
  if (table.created_in_transaction && !text.table.empty())
    note +=
        " The table is new (created by this transaction or earlier in the script): no "
        "other session uses it.";
  else if (judgement.small_table) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%.0f", min_rows);
    note += std::string(" Rule ") + rule_info(judgement.rule).name +
            " applies from colmig.guard_min_rows (" + limit +
            ") rows: safe at this size.";
  } else if (judgement.rule != DdlRule::none)
    note += sentence(rule_info(judgement.rule).reason);
  if (judgement.queues && blocker) {
    note += " Its lock request would queue behind " + describe_blocker(*blocker);
    note += statement.lock_timeout_set ? ", until lock_timeout gives up."
                                       : ", and every query on the table behind it.";
  }
  return note;
}

std::string guard_message(const Judgement &judgement, const StatementFacts &statement,
                          const TableFacts &table, const StepText &text,
                          const std::optional<LockBlocker> &blocker) {
  std::string message = "colmig.guard: " + std::string(text.action);
  if (judgement.rule == DdlRule::lock_queue) {
    message += " on " + std::string(text.table) + " would wait for " +
               to_string(*statement.lock) + " behind ";
    message += blocker ? describe_blocker(*blocker) : std::string("another session");
    return message + ", and every query on the table would queue behind it";
  }
  if (!text.table.empty())
    message += std::string(" ") + effect(statement) + " " + std::string(text.table) +
               " (" + describe_size(table) + ")";
  message += lock_phrase(statement, judgement);
  if (judgement.queues && blocker)
    message += ", after waiting behind " + describe_blocker(*blocker);
  return message;
}

std::string guard_detail(const Judgement &judgement, const StepText &text) {
  std::string detail = std::string("Rule ") + rule_info(judgement.rule).name + ":" +
                       sentence(rule_info(judgement.rule).reason);
  if (!text.remark.empty())
    detail += sentence(text.remark);
  return detail;
}

} // namespace colmig::core
