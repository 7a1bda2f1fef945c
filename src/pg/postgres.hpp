// The one way C++ files include PostgreSQL: its headers are C and must be
// wrapped, and postgres.h must come first. Include core headers before this.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/attnum.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}
