#include "alliance/store/sealed_database.hpp"

#include <utility>

#include "alliance/core/ids.hpp"

namespace alliance::store {

Result<SealedDatabase> open_sealed(DatabaseOptions options, KekPair keys, int seal_version,
                                   std::function<void(Connection&, DataKeys&)> seal_existing) {
  std::vector<SealStep> steps;
  steps.push_back(SealStep{seal_version, std::move(seal_existing)});
  return open_sealed(std::move(options), std::move(keys), std::move(steps));
}

Result<SealedDatabase> open_sealed(DatabaseOptions options, KekPair keys, std::vector<SealStep> steps) {
  auto data_keys = std::make_shared<DataKeys>(std::move(keys.kek), std::move(keys.previous_kek));
  auto rewrapped = std::make_shared<int>(0);
  options.after_migration = [data_keys, steps = std::move(steps)](Connection& c, int version) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].version != version) continue;
      if (i == 0) c.exec(kDataKeysSchema);
      steps[i].seal(c, *data_keys);
    }
  };
  // The data keys are checked first; the caller's own on_open (if any) runs after, in
  // the same transaction.
  options.on_open = [data_keys, rewrapped, key_name = keys.kek_key,
                     then = std::move(options.on_open)](Connection& c) -> Status {
    auto n = data_keys->rewrap_and_check(c, now_unix_ms(), key_name);
    if (!n) return std::move(n).error();
    *rewrapped = *n;
    if (then) return then(c);
    return {};
  };
  auto db = Database::open(std::move(options));
  if (!db) return std::move(db).error();
  return SealedDatabase{std::move(*db), std::move(data_keys), *rewrapped};
}

}  // namespace alliance::store
