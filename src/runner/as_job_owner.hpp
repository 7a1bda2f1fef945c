// While alive, statements run as the job's owner: what the owner could do
// by hand, nothing more. The search_path is colmig's pinned one: the job's
// SQL holds no user text to resolve (identifiers are quoted, expressions
// were analysed when the job was created), so no schema a role creates
// later can change what a statement means.
#pragma once

#include "catalog/job.hpp"
#include "pg/guc_scope.hpp"
#include "pg/transaction.hpp"

namespace colmig::runner {

class AsJobOwner {
public:
  explicit AsJobOwner(const catalog::Job &job) : role_(job.owner) {
    settings_.set("search_path", pg::kSafeSearchPath);
  }

private:
  pg::GucScope settings_;
  pg::AsRole role_;
};

} // namespace colmig::runner
