// Included first by every header of src/core: the core is plain C++17 and
// must never see PostgreSQL's headers (their macros redefine words such as
// `Abs`, `Max` and `gettext`, and their functions longjmp past destructors).
// Translation units that need both include the core headers first.
#pragma once

#ifdef POSTGRES_H
#error "src/core is PostgreSQL-free: include core headers before postgres.h"
#endif
