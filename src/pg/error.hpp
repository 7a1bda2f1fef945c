// A PostgreSQL error carried as a C++ exception, with its SQLSTATE intact so
// callers can still recognise a lock timeout (55P03) or a deadlock (40P01).
#pragma once

#include <stdexcept>
#include <string>

namespace colmig::pg {

class Error : public std::runtime_error {
public:
  Error(int sqlerrcode, std::string message, std::string detail = {},
        std::string hint = {})
      : std::runtime_error(std::move(message)), sqlerrcode_(sqlerrcode),
        detail_(std::move(detail)), hint_(std::move(hint)) {}

  int sqlerrcode() const { return sqlerrcode_; }
  const std::string &detail() const { return detail_; }
  const std::string &hint() const { return hint_; }
  // The five-character SQLSTATE, e.g. "55P03".
  std::string sqlstate() const;

private:
  int sqlerrcode_;
  std::string detail_;
  std::string hint_;
};

// Raise an Error from C++ code with an SQLSTATE given as five characters.
[[noreturn]] void raise(const char *sqlstate, std::string message,
                        std::string detail = {}, std::string hint = {});

int sqlstate_to_code(const char *sqlstate);

} // namespace colmig::pg
