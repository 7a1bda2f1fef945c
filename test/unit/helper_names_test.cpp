#include "core/helper_names.hpp"

#include <gtest/gtest.h>

#include <string>

namespace colmig::core {
namespace {

TEST(NotNullCheckName, RoundTrips) {
  for (std::int64_t job : {1LL, 42LL, 9223372036854775807LL}) {
    const std::string name = not_null_check_name(job);
    EXPECT_EQ(job_of_not_null_check(name), job) << name;
  }
  EXPECT_EQ(not_null_check_name(7), "colmig_7_not_null");
}

TEST(NotNullCheckName, OtherNamesAreNoJobsChecks) {
  for (const char *name :
       {"", "colmig__not_null", "colmig_x_not_null", "colmig_07_not_null",
        "colmig_7_not_nul", "colmig_7_not_null_", "my_colmig_7_not_null",
        "colmig_-7_not_null", "colmig_9223372036854775808_not_null",
        "colmig_99999999999999999999_not_null", "colmig_7"})
    EXPECT_FALSE(job_of_not_null_check(name).has_value()) << name;
}

TEST(FillTriggerOrder, FiresAfterTheApplicationsUsualTriggerNames) {
  for (const char *name :
       {"set_updated_at", "audit", "Z_last", "zzz", "_underscore", "0first", "}brace"})
    EXPECT_FALSE(fires_after_fill_trigger(name)) << name;
}

TEST(FillTriggerOrder, NamesSortingLaterAreFlagged) {
  for (const char *name : {"~zz", "\xc3\xbc_trigger", "\x7f"})
    EXPECT_TRUE(fires_after_fill_trigger(name)) << name;
  // A name a user gives with the fill trigger's prefix may sort after it
  // whatever the job's id ("~colmig_fill_zz" after "~colmig_fill_12_..."):
  // it counts as later too. colmig's own are internal triggers, which the
  // callers leave out.
  for (const char *name : {"~colmig_fill_zz", "~colmig_fill_12_16500", "~colmig_fill_"})
    EXPECT_TRUE(fires_after_fill_trigger(name)) << name;
}

} // namespace
} // namespace colmig::core
