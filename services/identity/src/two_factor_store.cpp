// IdentityStore's part for two-factor sign-in: secrets (sealed by the service), their
// last used step, recovery codes and sign-in challenges (sha256 only), and the record
// of every enable, disable and reset.
#include "alliance/store/query.hpp"
#include "identity_store.hpp"
#include "store_rows.hpp"

// Each job lambda is named before the co_await (see identity_store.cpp).

namespace alliance::identity {

using store::Blob;
using store::Connection;
using store::execute;
using store::query_one;
using store::Statement;

namespace {

void record_change(Connection& c, const std::string& user_id, std::string_view change, const std::string& by,
                   std::int64_t now) {
  execute(c, "INSERT INTO two_factor_changes (user_id, change, by_user_id, at_unix_ms) VALUES (?1, ?2, ?3, ?4)",
          user_id, change, by, now);
}

Error challenge_invalid() {
  return Error{Code::kUnauthenticated,
               "challenge: is not valid (unknown, used or expired); sign in with your password again", "challenge"};
}

}  // namespace

bool remove_two_factor(Connection& c, const std::string& user_id, std::string_view change,
                       const std::string& by_user_id, std::int64_t now) {
  const bool had = execute(c, "DELETE FROM two_factor WHERE user_id = ?1", user_id) > 0;
  execute(c, "DELETE FROM recovery_codes WHERE user_id = ?1", user_id);
  execute(c, "UPDATE two_factor_challenges SET used_unix_ms = ?2 WHERE user_id = ?1 AND used_unix_ms IS NULL",
          user_id, now);
  if (had) record_change(c, user_id, change, by_user_id, now);
  return had;
}

asio::awaitable<Result<std::optional<TwoFactorRecord>>> IdentityStore::find_two_factor(std::string user_id) {
  auto job = [user_id = std::move(user_id)](Connection& c) -> Result<std::optional<TwoFactorRecord>> {
    auto read = [](const Statement& st) {
      TwoFactorRecord r;
      r.sealed_secret = st.column_blob(0);
      if (!st.column_is_null(1)) r.enabled_unix_ms = st.column_int(1);
      r.last_step = st.column_int(2);
      r.recovery_codes_left = static_cast<int>(st.column_int(3));
      return r;
    };
    return query_one(c,
                     "SELECT sealed_secret, enabled_unix_ms, last_step, (SELECT COUNT(*) FROM recovery_codes r "
                     "WHERE r.user_id = t.user_id AND r.used_unix_ms IS NULL) FROM two_factor t WHERE t.user_id = ?1",
                     read, user_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Status> IdentityStore::start_two_factor(std::string user_id, std::string sealed_secret,
                                                        std::int64_t now) {
  auto job = [user_id = std::move(user_id), sealed = std::move(sealed_secret), now](Connection& c) -> Status {
    auto enabled = query_one(
        c, "SELECT 1 FROM two_factor WHERE user_id = ?1 AND enabled_unix_ms IS NOT NULL",
        [](const Statement&) { return true; }, user_id);
    if (enabled)
      return make_error(Code::kFailedPrecondition, "two-factor sign-in is already on; disable it first");
    execute(c,
            "INSERT INTO two_factor (user_id, sealed_secret, created_unix_ms) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (user_id) DO UPDATE SET sealed_secret = ?2, created_unix_ms = ?3, last_step = 0",
            user_id, Blob{sealed}, now);
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<bool>> IdentityStore::enable_two_factor(std::string user_id, std::int64_t step,
                                                               std::vector<std::string> recovery_hashes,
                                                               std::int64_t now) {
  auto job = [user_id = std::move(user_id), step, hashes = std::move(recovery_hashes),
              now](Connection& c) -> Result<bool> {
    if (execute(c,
                "UPDATE two_factor SET enabled_unix_ms = ?2, last_step = ?3 "
                "WHERE user_id = ?1 AND enabled_unix_ms IS NULL AND last_step < ?3",
                user_id, now, step) == 0)
      return false;
    execute(c, "DELETE FROM recovery_codes WHERE user_id = ?1", user_id);
    for (const auto& h : hashes)
      execute(c, "INSERT INTO recovery_codes (code_hash, user_id) VALUES (?1, ?2)", Blob{h}, user_id);
    record_change(c, user_id, "enabled", user_id, now);
    return true;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<bool>> IdentityStore::claim_totp_step(std::string user_id, std::int64_t step) {
  auto job = [user_id = std::move(user_id), step](Connection& c) -> Result<bool> {
    // Only one of two requests carrying the same code gets past this.
    return execute(c,
                   "UPDATE two_factor SET last_step = ?2 WHERE user_id = ?1 AND enabled_unix_ms IS NOT NULL "
                   "AND last_step < ?2",
                   user_id, step) > 0;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<bool>> IdentityStore::use_recovery_code(std::string user_id, std::string code_hash,
                                                               std::int64_t now) {
  auto job = [user_id = std::move(user_id), hash = std::move(code_hash), now](Connection& c) -> Result<bool> {
    return execute(c,
                   "UPDATE recovery_codes SET used_unix_ms = ?3 WHERE user_id = ?1 AND code_hash = ?2 AND "
                   "used_unix_ms IS NULL AND EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = ?1 AND "
                   "t.enabled_unix_ms IS NOT NULL)",
                   user_id, Blob{hash}, now) > 0;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<bool>> IdentityStore::disable_two_factor(std::string user_id, std::int64_t now) {
  auto job = [user_id = std::move(user_id), now](Connection& c) -> Result<bool> {
    return remove_two_factor(c, user_id, "disabled", user_id, now);
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Status> IdentityStore::create_challenge(std::string challenge_hash, std::string user_id,
                                                        bool enrolment, std::int64_t now, std::int64_t expires) {
  auto job = [hash = std::move(challenge_hash), user_id = std::move(user_id), enrolment, now,
              expires](Connection& c) -> Status {
    // Challenges expired a day ago are of no use to anyone: the table stays small.
    execute(c, "DELETE FROM two_factor_challenges WHERE expires_unix_ms < ?1", now - 24 * 3600 * 1000);
    execute(c,
            "INSERT INTO two_factor_challenges (challenge_hash, user_id, enrolment, created_unix_ms, expires_unix_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5)",
            Blob{hash}, user_id, std::int64_t{enrolment ? 1 : 0}, now, expires);
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<OpenChallenge>> IdentityStore::find_challenge(std::string challenge_hash, std::int64_t now) {
  auto job = [keys = keys_.get(), hash = std::move(challenge_hash), now](Connection& c) -> Result<OpenChallenge> {
    auto row = query_one(
        c,
        "SELECT user_id, enrolment FROM two_factor_challenges WHERE challenge_hash = ?1 AND used_unix_ms IS NULL "
        "AND expires_unix_ms > ?2",
        [](const Statement& st) { return std::make_pair(st.column_text(0), st.column_int(1) != 0); }, Blob{hash},
        now);
    if (!row) return challenge_invalid();
    auto user = user_in(c, *keys, row->first);
    if (!user || !user->active()) return challenge_invalid();
    auto practice = practice_in(c, *keys, user->practice_id);
    if (!practice) return challenge_invalid();
    return OpenChallenge{std::move(*user), practice->slug, practice->name, row->second};
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<bool>> IdentityStore::use_challenge(std::string challenge_hash, std::int64_t now) {
  auto job = [hash = std::move(challenge_hash), now](Connection& c) -> Result<bool> {
    return execute(c,
                   "UPDATE two_factor_challenges SET used_unix_ms = ?2 WHERE challenge_hash = ?1 AND "
                   "used_unix_ms IS NULL AND expires_unix_ms > ?2",
                   Blob{hash}, now) > 0;
  };
  co_return co_await db_->write(std::move(job));
}

}  // namespace alliance::identity
