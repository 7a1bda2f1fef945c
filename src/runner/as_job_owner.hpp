// While alive, statements run as the job's owner with the search_path the
// job was created with: what the owner could do by hand, nothing more.
#pragma once

#include "catalog/job.hpp"
#include "pg/guc_scope.hpp"
#include "pg/transaction.hpp"

namespace colmig::runner {

class AsJobOwner {
public:
  explicit AsJobOwner(const catalog::Job &job) : role_(job.owner) {
    settings_.set("search_path", job.search_path.c_str());
  }

private:
  pg::GucScope settings_;
  pg::AsRole role_;
};

} // namespace colmig::runner
