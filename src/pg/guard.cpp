#include "pg/guard.hpp"

#include <string>

namespace colmig::pg {

std::string Error::sqlstate() const { return unpack_sql_state(sqlerrcode_); }

int sqlstate_to_code(const char *s) {
  return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

void raise(const char *sqlstate, std::string message, std::string detail,
           std::string hint) {
  throw Error(sqlstate_to_code(sqlstate), std::move(message), std::move(detail),
              std::move(hint));
}

namespace detail {

void throw_current_error(MemoryContext context_before) {
  // CopyErrorData must not run in ErrorContext; copy into the caller's
  // context, keep what we need in std::strings, and drop the rest.
  MemoryContextSwitchTo(context_before);
  ErrorData *edata = CopyErrorData();
  FlushErrorState();
  Error error(edata->sqlerrcode, edata->message ? edata->message : "",
              edata->detail ? edata->detail : "", edata->hint ? edata->hint : "");
  FreeErrorData(edata);
  throw error;
}

char *copy_for_report(const char *text) {
  static char fallback[] = "colmig: out of memory while reporting an error";
  std::size_t size = strlen(text) + 1;
  auto *copy = static_cast<char *>(
      MemoryContextAllocExtended(ErrorContext, size, MCXT_ALLOC_NO_OOM));
  if (copy == nullptr)
    return fallback;
  memcpy(copy, text, size);
  return copy;
}

bool try_call(void (*fn)(void *), void *context) {
  volatile bool ok = true;
  PG_TRY();
  { fn(context); }
  PG_CATCH();
  { ok = false; }
  PG_END_TRY();
  return ok;
}

void report(int sqlerrcode, const char *message, const char *detail, const char *hint) {
  ereport(ERROR, (errcode(sqlerrcode), errmsg_internal("%s", message),
                  detail ? errdetail_internal("%s", detail) : 0,
                  hint ? errhint("%s", hint) : 0));
  pg_unreachable();
}

} // namespace detail
} // namespace colmig::pg
