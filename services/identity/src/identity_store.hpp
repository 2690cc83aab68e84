#pragma once
// IdentityStore: identity's SQLite database (practices, users, care teams,
// sessions, refresh tokens) behind awaitable calls. Reads run on the store's
// reader threads, writes on its single writer thread (group commit); every call
// resumes on the awaiting coroutine's executor, only after COMMIT for writes.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/store/database.hpp"
#include "identity_domain.hpp"

namespace alliance::identity {

// A user with the stored password hash, for login only.
struct LoginRecord {
  User user;
  std::string password_hash;
};

// What a refresh-token rotation found.
struct Rotation {
  enum class Outcome { kRotated, kReused } outcome = Outcome::kRotated;
  Session session;
  User user;
};

class IdentityStore {
 public:
  // Opens (creating) the database file and applies identity's migrations.
  static Result<std::unique_ptr<IdentityStore>> open(const std::filesystem::path& path);
  explicit IdentityStore(std::unique_ptr<store::Database> db);

  // Practice + its first admin in one transaction. Slug taken -> kAlreadyExists (field slug).
  asio::awaitable<Status> create_practice(Practice practice, User admin, std::string password_hash);
  // Email taken in the practice -> kAlreadyExists (field email).
  asio::awaitable<Status> create_user(User user, std::string password_hash);

  asio::awaitable<Result<std::optional<LoginRecord>>> find_login(std::string slug, std::string email);
  asio::awaitable<Result<std::optional<User>>> find_user(std::string user_id);
  asio::awaitable<Result<std::optional<Practice>>> find_practice(std::string practice_id);
  asio::awaitable<Result<std::vector<User>>> list_users(std::string practice_id, std::optional<Role> role);

  // The client must be a client and the therapist a therapist of `practice_id`
  // (otherwise kNotFound naming client_id / therapist_id); a duplicate link -> kAlreadyExists.
  asio::awaitable<Status> add_care_team_link(std::string practice_id, CareTeamLink link);
  asio::awaitable<Result<std::vector<CareTeamLink>>> list_care_team(std::string client_id);

  // A new session and its first refresh token (stored as its sha256 only), one transaction.
  asio::awaitable<Status> create_session(Session session, std::string refresh_hash,
                                         std::int64_t refresh_expires_unix_ms);
  // Rotates the refresh token whose sha256 is `old_hash`: unknown, expired, or of a
  // revoked/expired session -> kUnauthenticated field refresh_token. Already used ->
  // the whole session is revoked in this transaction and the outcome is kReused.
  asio::awaitable<Result<Rotation>> rotate_refresh(std::string old_hash, std::string new_hash,
                                                   std::int64_t now_unix_ms,
                                                   std::int64_t new_expires_unix_ms);
  // Revokes the session if it belongs to `user_id` and is not yet revoked; true if
  // this call revoked it.
  asio::awaitable<Result<bool>> revoke_session(std::string session_id, std::string user_id,
                                               std::string reason, std::int64_t now_unix_ms);
  // Ids of sessions revoked at or after `since_unix_ms`.
  asio::awaitable<Result<std::vector<std::string>>> revoked_since(std::int64_t since_unix_ms);

  store::Database& database() { return *db_; }

 private:
  std::unique_ptr<store::Database> db_;
};

}  // namespace alliance::identity
