// The two crossings between C++ and PostgreSQL (STYLE.md, "Errors cross the
// boundary in exactly two ways").
//
//  - pg::call(f): run PostgreSQL code that may ereport() from a C++ frame.
//    The longjmp lands here and becomes a pg::Error. `f` itself must hold no
//    object with a destructor: the jump skips f's own frame.
//  - entry(f): the body of every extern "C" function PostgreSQL calls. C++
//    exceptions stop here; the error is re-raised with ereport() only after
//    the try scope has closed, so every destructor has already run.
#pragma once

#include "pg/error.hpp"
#include "pg/postgres.hpp"

#include <new>
#include <type_traits>
#include <utility>

namespace colmig::pg {

namespace detail {
// Copies a message for ereport without ever raising itself (the caller is
// a catch handler): falls back to a fixed text when memory is short.
char *copy_for_report(const char *text);
[[noreturn]] void throw_current_error(MemoryContext context_before);
[[noreturn]] void report(int sqlerrcode, const char *message, const char *detail,
                         const char *hint);
// Runs fn(context) under PG_TRY; false when it raised an error, which is
// then still pending in the error state. Out of line, so no template code
// lives between setjmp and longjmp.
bool try_call(void (*fn)(void *), void *context);
} // namespace detail

template <typename F> auto call(F &&f) -> decltype(f()) {
  using Fn = std::remove_reference_t<F>;
  using R = decltype(f());
  MemoryContext context_before = CurrentMemoryContext;
  if constexpr (std::is_void_v<R>) {
    auto thunk = [](void *p) { (*static_cast<Fn *>(p))(); };
    if (!detail::try_call(thunk, &f))
      detail::throw_current_error(context_before);
  } else {
    static_assert(std::is_trivially_copyable_v<R>, "pg::call returns plain values only");
    struct Context {
      Fn *f;
      R result;
    } context{&f, R{}};
    auto thunk = [](void *p) {
      auto *c = static_cast<Context *>(p);
      c->result = (*c->f)();
    };
    if (!detail::try_call(thunk, &context))
      detail::throw_current_error(context_before);
    return context.result;
  }
}

// Runs `f` and converts any exception into a PostgreSQL ERROR after every
// C++ frame below has been unwound.
template <typename F> Datum entry(F &&f) {
  int code = 0;
  char *message = nullptr;
  char *detail = nullptr;
  char *hint = nullptr;
  try {
    return f();
  } catch (const Error &e) {
    code = e.sqlerrcode();
    message = detail::copy_for_report(e.what());
    detail = e.detail().empty() ? nullptr : detail::copy_for_report(e.detail().c_str());
    hint = e.hint().empty() ? nullptr : detail::copy_for_report(e.hint().c_str());
  } catch (const std::bad_alloc &) {
    code = ERRCODE_OUT_OF_MEMORY;
    message = detail::copy_for_report("out of memory in colmig");
  } catch (const std::exception &e) {
    code = ERRCODE_INTERNAL_ERROR;
    message = detail::copy_for_report(e.what());
  } catch (...) {
    code = ERRCODE_INTERNAL_ERROR;
    message = detail::copy_for_report("unknown C++ exception in colmig");
  }
  detail::report(code, message, detail, hint);
}

} // namespace colmig::pg

// Declares an SQL-callable function whose body is C++ run through entry().
#define COLMIG_SQL_FUNCTION(name)                                                        \
  static Datum name##_impl(PG_FUNCTION_ARGS);                                            \
  extern "C" {                                                                           \
  PG_FUNCTION_INFO_V1(name);                                                             \
  PGDLLEXPORT Datum name(PG_FUNCTION_ARGS) {                                             \
    return colmig::pg::entry([&]() -> Datum { return name##_impl(fcinfo); });            \
  }                                                                                      \
  }                                                                                      \
  static Datum name##_impl(PG_FUNCTION_ARGS)
