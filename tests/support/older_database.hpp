#pragma once
// A database file as an older release left it: only a service's migrations below
// `version` applied. Where a migration's test starts (rows written the old way, then
// the service's own open migrates them).
#include <filesystem>
#include <memory>
#include <vector>

#include "alliance/store/database.hpp"

namespace alliance::testing {

inline Result<std::unique_ptr<store::Database>> open_database_before(std::filesystem::path path,
                                                                     const std::vector<store::Migration>& all,
                                                                     int version) {
  store::DatabaseOptions options;
  options.path = std::move(path);
  for (const auto& m : all)
    if (m.version < version) options.migrations.push_back(m);
  return store::Database::open(std::move(options));
}

}  // namespace alliance::testing
