#include "core/ddl_rules.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace colmig::core {
namespace {

constexpr double kMinRows = 10000;

StatementFacts rewrite_facts() {
  StatementFacts facts;
  facts.rule = DdlRule::volatile_default;
  facts.lock = LockMode::access_exclusive;
  facts.rewrites = true;
  facts.scans = true;
  return facts;
}

TableFacts table_of(double rows) {
  TableFacts table;
  table.rows = rows;
  table.heap_bytes = rows * 100;
  table.indexes = 2;
  return table;
}

TEST(DdlRules, EveryRuleHasAUniqueNameAndAReason) {
  std::set<std::string> names;
  for (int i = 1; i <= kDdlRules; ++i) {
    const auto rule = static_cast<DdlRule>(i);
    const RuleInfo &info = rule_info(rule);
    EXPECT_EQ(info.rule, rule);
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_GT(std::string(info.reason).size(), 20u) << info.name;
    EXPECT_EQ(parse_rule(info.name), rule);
  }
  EXPECT_FALSE(parse_rule("no_such_rule").has_value());
}

TEST(DdlRules, LargeTableRulesDependOnTheMinimum) {
  const Judgement large = judge(rewrite_facts(), table_of(kMinRows), kMinRows);
  EXPECT_EQ(large.verdict, Verdict::unsafe);
  EXPECT_FALSE(large.small_table);
  const Judgement small = judge(rewrite_facts(), table_of(kMinRows - 1), kMinRows);
  EXPECT_EQ(small.verdict, Verdict::safe);
  EXPECT_TRUE(small.small_table);
  EXPECT_EQ(small.rule, DdlRule::volatile_default);
}

TEST(DdlRules, ATableCreatedInTheTransactionIsAlwaysSafe) {
  TableFacts table = table_of(1e9);
  table.created_in_transaction = true;
  StatementFacts facts = rewrite_facts();
  facts.conflicting_lock_now = true;
  EXPECT_EQ(judge(facts, table, kMinRows).verdict, Verdict::safe);
  facts.rule = DdlRule::breaks_clients;
  EXPECT_EQ(judge(facts, table, kMinRows).verdict, Verdict::safe);
}

TEST(DdlRules, ClientBreakingRulesWarnAtAnySize) {
  StatementFacts facts;
  facts.rule = DdlRule::breaks_clients;
  facts.lock = LockMode::access_exclusive;
  EXPECT_EQ(judge(facts, table_of(3), kMinRows).verdict, Verdict::warning);
  EXPECT_EQ(judge(facts, table_of(1e8), kMinRows).verdict, Verdict::warning);
}

TEST(DdlRules, TheLockQueueMakesAnySafeStatementUnsafeUnlessTheRequestGivesUp) {
  StatementFacts facts;
  facts.lock = LockMode::access_exclusive;
  facts.conflicting_lock_now = true;
  Judgement judgement = judge(facts, table_of(5), kMinRows);
  EXPECT_EQ(judgement.rule, DdlRule::lock_queue);
  EXPECT_EQ(judgement.verdict, Verdict::unsafe);
  EXPECT_TRUE(judgement.queues);
  // A warning (renames) becomes unsafe too: the queue blocks everyone.
  facts.rule = DdlRule::breaks_clients;
  EXPECT_EQ(judge(facts, table_of(5), kMinRows).rule, DdlRule::lock_queue);
  // With lock_timeout the request gives up in time: the queue is noted only.
  facts.rule = DdlRule::none;
  facts.lock_timeout_set = true;
  judgement = judge(facts, table_of(5), kMinRows);
  EXPECT_EQ(judgement.verdict, Verdict::safe);
  EXPECT_TRUE(judgement.queues);
  // A statement that locks nothing existing never queues.
  facts = StatementFacts{};
  facts.conflicting_lock_now = true;
  EXPECT_FALSE(judge(facts, table_of(5), kMinRows).queues);
}

TEST(DdlRules, AnUnsafeShapeKeepsItsOwnRuleWhenItAlsoQueues) {
  StatementFacts facts = rewrite_facts();
  facts.conflicting_lock_now = true;
  const Judgement judgement = judge(facts, table_of(1e6), kMinRows);
  EXPECT_EQ(judgement.rule, DdlRule::volatile_default);
  EXPECT_TRUE(judgement.queues);
}

TEST(DdlRules, AlwaysRulesIgnoreTheSize) {
  StatementFacts facts;
  facts.rule = DdlRule::truncate_cascade;
  facts.lock = LockMode::access_exclusive;
  EXPECT_EQ(judge(facts, table_of(0), kMinRows).verdict, Verdict::unsafe);
  facts.rule = DdlRule::fill_trigger_reliance;
  EXPECT_EQ(judge(facts, table_of(0), kMinRows).verdict, Verdict::unsafe);
}

TEST(DdlRules, EstimatesGrowWithTheTableAndTheWork) {
  StatementFacts catalog_only;
  catalog_only.lock = LockMode::access_exclusive;
  StatementFacts scan = catalog_only;
  scan.scans = true;
  const StatementFacts rewrite = rewrite_facts();
  StatementFacts index = catalog_only;
  index.builds_index = true;
  const TableFacts table = table_of(1e7); // 1 GB
  EXPECT_EQ(estimate_lock_seconds(catalog_only, table), 0.0);
  EXPECT_NEAR(estimate_lock_seconds(scan, table), 2.0, 1e-9);
  EXPECT_NEAR(estimate_lock_seconds(rewrite, table), 25.0 + 20.0, 1e-9);
  EXPECT_NEAR(estimate_lock_seconds(index, table), 2.0 + 10.0, 1e-9);
  EXPECT_LT(estimate_lock_seconds(rewrite, table_of(1e6)),
            estimate_lock_seconds(rewrite, table));
}

} // namespace
} // namespace colmig::core
