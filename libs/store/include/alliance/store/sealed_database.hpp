#pragma once
// Database::open for a database with sealed fields (sealed_fields.hpp): the migration
// numbered `seal_version` also creates the data_keys table and then runs
// `seal_existing` to seal the rows written in clear before it (same transaction); at
// every open, data keys wrapped by keys.previous_kek are re-wrapped under keys.kek and
// a KEK that opens none of them fails the open (kFailedPrecondition naming
// keys.kek_key). An on_open already in `options` runs after that check, in the same
// transaction (after_migration is open_sealed's own). Blocking: start-up only.
#include <functional>
#include <memory>
#include <vector>

#include "alliance/core/result.hpp"
#include "alliance/store/database.hpp"
#include "alliance/store/sealed_fields.hpp"

namespace alliance::store {

struct SealedDatabase {
  std::unique_ptr<Database> db;
  std::shared_ptr<DataKeys> keys;
  int rewrapped = 0;  // data keys this open moved from the previous KEK (a rotation)
};

Result<SealedDatabase> open_sealed(DatabaseOptions options, KekPair keys, int seal_version,
                                   std::function<void(Connection&, DataKeys&)> seal_existing);

// A later migration that seals one more field: `seal` runs right after the migration
// numbered `version`, in its transaction, and seals the rows written in clear before it.
struct SealStep {
  int version;
  std::function<void(Connection&, DataKeys&)> seal;
};

// As above, for a database whose sealed fields came in several migrations: the first
// step's migration also creates data_keys (steps in increasing version order).
Result<SealedDatabase> open_sealed(DatabaseOptions options, KekPair keys, std::vector<SealStep> steps);

}  // namespace alliance::store
