#include "runner/job_table.hpp"

#include "pg/relation.hpp"
#include "pg/spi.hpp"
#include "runner/as_job_owner.hpp"

namespace colmig::runner {

std::string lock_job_table(const catalog::Job &job, LOCKMODE mode) {
  auto name = pg::lock_relation(job.relid, mode);
  if (!name)
    pg::raise("42P01", "table " + job.relation + " of colmig job " +
                           std::to_string(job.id) + " was dropped");
  // The job acts as the owner the table had when it was created: once the
  // table belongs to someone else, that role's rights are not the job's.
  if (pg::relation_owner(job.relid) != job.owner)
    pg::raise("42501",
              "table " + *name + " changed owner since colmig job " +
                  std::to_string(job.id) + " was created",
              {}, "The job runs as the table's owner at creation; create a new job.");
  return *name;
}

std::string job_column(const catalog::Job &job) {
  if (!job.column_attnum)
    return pg::quote_ident(job.column);
  auto name = pg::column_name(job.relid, *job.column_attnum);
  if (!name)
    pg::raise("42703", "column \"" + job.column + "\" that colmig job " +
                           std::to_string(job.id) + " adds was dropped from " +
                           job.relation);
  return *name;
}

void run_as_owner(const catalog::Job &job, const std::string &statement) {
  AsJobOwner owner(job, SearchPath::pinned);
  pg::execute(statement);
}

} // namespace colmig::runner
