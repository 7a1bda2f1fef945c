#include "core/evaluation_settings.hpp"

#include <gtest/gtest.h>

namespace colmig::core {
namespace {

TEST(TempSchemaLast, IsAppendedToAnyPath) {
  EXPECT_EQ(with_temp_schema_last("\"$user\", public"), "\"$user\", public, pg_temp");
  EXPECT_EQ(with_temp_schema_last("app"), "app, pg_temp");
  EXPECT_EQ(with_temp_schema_last(""), "pg_temp");
}

TEST(TempSchemaLast, MovesAnExplicitTempSchemaToTheEnd) {
  EXPECT_EQ(with_temp_schema_last("pg_temp, public"), "public, pg_temp");
  EXPECT_EQ(with_temp_schema_last("a, \"pg_temp\", b"), "a, b, pg_temp");
  EXPECT_EQ(with_temp_schema_last("pg_temp"), "pg_temp");
}

TEST(TempSchemaLast, KeepsQuotedNamesWhole) {
  EXPECT_EQ(with_temp_schema_last("\"a, pg_temp\", public"),
            "\"a, pg_temp\", public, pg_temp");
  EXPECT_EQ(with_temp_schema_last("\"x\"\"y\",pg_catalog"),
            "\"x\"\"y\", pg_catalog, pg_temp");
  // Unquoted names fold to lower case; a quoted name in other letters is
  // another schema.
  EXPECT_EQ(with_temp_schema_last("PG_Temp, public"), "public, pg_temp");
  EXPECT_EQ(with_temp_schema_last("\"PG_TEMP\""), "\"PG_TEMP\", pg_temp");
}

TEST(TempSchemaLast, DropsTemporarySchemasNamedOutright) {
  EXPECT_EQ(with_temp_schema_last("pg_temp_3, public"), "public, pg_temp");
}

} // namespace
} // namespace colmig::core
