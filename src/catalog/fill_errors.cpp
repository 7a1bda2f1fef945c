#include "catalog/fill_errors.hpp"

#include "pg/spi.hpp"

namespace colmig::catalog {

void note_fill_error(std::int64_t job_id) {
  pg::execute("INSERT INTO colmig.fill_errors (job_id) VALUES ($1)",
              {pg::int8_param(job_id)});
}

std::int64_t fill_error_count(std::int64_t job_id) {
  pg::execute_kept("SELECT count(*) FROM colmig.fill_errors WHERE job_id = $1",
                   {pg::int8_param(job_id)});
  return pg::get_int64(0, 0).value_or(0);
}

void forget_fill_errors(std::int64_t job_id) {
  pg::execute("DELETE FROM colmig.fill_errors WHERE job_id = $1",
              {pg::int8_param(job_id)});
}

} // namespace colmig::catalog
