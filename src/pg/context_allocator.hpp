// A standard allocator backed by a PostgreSQL memory context, for
// Boost.Container. Memory goes away with the context (reset or delete), so
// containers must not outlive it; deallocate() frees eagerly anyway. A
// failed allocation throws std::bad_alloc instead of longjmp-ing past the
// container's destructor.
#pragma once

#include "pg/postgres.hpp"

#include <cstddef>
#include <new>

namespace colmig::pg {

template <typename T> class ContextAllocator {
public:
  using value_type = T;

  explicit ContextAllocator(MemoryContext context) noexcept : context_(context) {}
  template <typename U>
  ContextAllocator(const ContextAllocator<U> &other) noexcept
      : context_(other.context()) {}

  T *allocate(std::size_t n) {
    // Larger requests would ereport() instead of returning NULL.
    if (n > MaxAllocSize / sizeof(T))
      throw std::bad_alloc();
    void *memory = MemoryContextAllocExtended(context_, n * sizeof(T), MCXT_ALLOC_NO_OOM);
    if (memory == nullptr)
      throw std::bad_alloc();
    return static_cast<T *>(memory);
  }

  void deallocate(T *pointer, std::size_t) noexcept { pfree(pointer); }

  MemoryContext context() const noexcept { return context_; }

  template <typename U> bool operator==(const ContextAllocator<U> &other) const noexcept {
    return context_ == other.context();
  }
  template <typename U> bool operator!=(const ContextAllocator<U> &other) const noexcept {
    return context_ != other.context();
  }

private:
  MemoryContext context_;
};

} // namespace colmig::pg
