// While alive, statements run as the job's owner: what the owner could do
// by hand, nothing more, with the creator's evaluation settings
// (core/evaluation_settings.hpp: TimeZone, DateStyle, ...).
//
// The search_path differs by what runs. The job's own statements (the DDL
// steps) run with colmig's pinned path: they hold no user text to resolve
// (identifiers are quoted, expressions were analysed when the job was
// created), so no schema a role creates later can change what they mean.
// A batch runs with the creator's path (pg_temp last): the expression
// itself is bound already, but the functions it calls and the
// application's triggers (fire_triggers) look names up when they run, as
// they did when the creator tried them.
#pragma once
#include "core/evaluation_settings.hpp"

#include "catalog/job.hpp"
#include "pg/guc_scope.hpp"
#include "pg/transaction.hpp"

namespace colmig::runner {

enum class SearchPath { pinned, creators };

class AsJobOwner {
public:
  AsJobOwner(const catalog::Job &job, SearchPath path) : role_(job.owner) {
    for (std::size_t i = 0; i < core::kEvaluationSettings.size(); ++i) {
      const bool pin = i == core::kSearchPathSetting && path == SearchPath::pinned;
      settings_.set(core::kEvaluationSettings[i],
                    pin ? pg::kSafeSearchPath : job.settings[i].c_str());
    }
  }

private:
  pg::GucScope settings_;
  pg::AsRole role_;
};

} // namespace colmig::runner
