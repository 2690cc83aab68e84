#include "identity_store.hpp"

#include <algorithm>
#include <utility>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/wipe.hpp"
#include "alliance/store/query.hpp"
#include "alliance/store/sealed_database.hpp"
#include "client_search.hpp"
#include "store_rows.hpp"

// Each job lambda is named before the co_await: g++ 12 mishandles a lambda with
// non-trivial captures built inside a co_await expression (freed twice).

namespace alliance::identity {
namespace {

using store::Blob;
using store::Connection;
using store::execute;
using store::query_all;
using store::query_one;
using store::Statement;

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE practices (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  slug TEXT NOT NULL UNIQUE,
  created_unix_ms INTEGER NOT NULL
);
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL REFERENCES practices(id),
  email TEXT NOT NULL,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('client', 'therapist', 'front_desk', 'admin')),
  password_hash TEXT NOT NULL,
  created_unix_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_practice_email ON users(practice_id, email);
CREATE INDEX users_practice_role ON users(practice_id, role);
CREATE TABLE care_team (
  client_id TEXT NOT NULL REFERENCES users(id),
  therapist_id TEXT NOT NULL REFERENCES users(id),
  practice_id TEXT NOT NULL REFERENCES practices(id),
  created_unix_ms INTEGER NOT NULL,
  PRIMARY KEY (client_id, therapist_id)
);
CREATE INDEX care_team_therapist ON care_team(therapist_id);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  practice_id TEXT NOT NULL REFERENCES practices(id),
  created_unix_ms INTEGER NOT NULL,
  expires_unix_ms INTEGER NOT NULL,
  revoked_unix_ms INTEGER,
  revoke_reason TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_revoked ON sessions(revoked_unix_ms) WHERE revoked_unix_ms IS NOT NULL;
CREATE TABLE refresh_tokens (
  token_hash BLOB PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id),
  issued_unix_ms INTEGER NOT NULL,
  expires_unix_ms INTEGER NOT NULL,
  used_unix_ms INTEGER
);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);
)sql";

// Devices and the practice archive key.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  practice_id TEXT NOT NULL REFERENCES practices(id),
  session_id TEXT NOT NULL UNIQUE REFERENCES sessions(id),
  name TEXT NOT NULL,
  signing_public_key BLOB NOT NULL,
  agreement_public_key BLOB NOT NULL,
  agreement_key_signature BLOB NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  revoked_unix_ms INTEGER
);
CREATE INDEX devices_user ON devices(user_id, created_unix_ms);
ALTER TABLE practices ADD COLUMN archive_key BLOB;
ALTER TABLE practices ADD COLUMN archive_key_set_unix_ms INTEGER;
)sql";

// Each user's IANA time zone ('' = not set).
constexpr std::string_view kSchemaV3 = R"sql(
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
)sql";

// Users' identity keys; each device's certificate under its user's key (NULL while
// pending) and the identity key sealed for it; the practice key's signature over the
// archive key (NULL when unsigned).
constexpr std::string_view kSchemaV4 = R"sql(
CREATE TABLE identity_keys (
  user_id TEXT PRIMARY KEY REFERENCES users(id),
  public_key BLOB NOT NULL,
  set_unix_ms INTEGER NOT NULL
);
ALTER TABLE devices ADD COLUMN certificate_signature BLOB;
ALTER TABLE devices ADD COLUMN certificate_issued_unix_ms INTEGER;
ALTER TABLE devices ADD COLUMN identity_key_box BLOB;
ALTER TABLE practices ADD COLUMN practice_public_key BLOB;
ALTER TABLE practices ADD COLUMN archive_key_signature BLOB;
ALTER TABLE practices ADD COLUMN archive_key_issued_unix_ms INTEGER;
)sql";

// Users an admin deactivated, password-reset tokens (sha256 only; used_unix_ms once
// redeemed or replaced), and the practice's booking policy.
constexpr std::string_view kSchemaV5 = R"sql(
ALTER TABLE users ADD COLUMN deactivated_unix_ms INTEGER;
ALTER TABLE practices ADD COLUMN therapists_book_any_client INTEGER NOT NULL DEFAULT 0;
CREATE TABLE password_resets (
  token_hash BLOB PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  created_unix_ms INTEGER NOT NULL,
  expires_unix_ms INTEGER NOT NULL,
  used_unix_ms INTEGER
);
CREATE INDEX password_resets_user ON password_resets(user_id);
)sql";

// Idempotency keys of the creates (practices, users, care-team links): ids only.
constexpr std::string_view kSchemaV6 = store::kIdempotentWritesSchema;

// Two-factor sign-in: each user's TOTP secret, sealed (AES-256-GCM under a key identity
// derives from its signing key; never returned after enrolment) and pending until
// confirmed, with the last step used (a code is used once); recovery codes and sign-in
// challenges by sha256 only; every enable, disable and reset recorded with who did it;
// and the practice's policy for staff.
constexpr std::string_view kSchemaV7 = R"sql(
CREATE TABLE two_factor (
  user_id TEXT PRIMARY KEY REFERENCES users(id),
  sealed_secret BLOB NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  enabled_unix_ms INTEGER,
  last_step INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE recovery_codes (
  code_hash BLOB PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  used_unix_ms INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);
CREATE TABLE two_factor_challenges (
  challenge_hash BLOB PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  enrolment INTEGER NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  expires_unix_ms INTEGER NOT NULL,
  used_unix_ms INTEGER
);
CREATE INDEX two_factor_challenges_expiry ON two_factor_challenges(expires_unix_ms);
CREATE TABLE two_factor_changes (
  user_id TEXT NOT NULL REFERENCES users(id),
  change TEXT NOT NULL CHECK (change IN ('enabled', 'disabled', 'reset')),
  by_user_id TEXT NOT NULL,
  at_unix_ms INTEGER NOT NULL
);
CREATE INDEX two_factor_changes_user ON two_factor_changes(user_id, at_unix_ms);
ALTER TABLE practices ADD COLUMN require_two_factor_for_staff INTEGER NOT NULL DEFAULT 0;
)sql";

// Migration 8: the practice's own time zone ("" = not set).
constexpr std::string_view kSchemaV8 = R"sql(
ALTER TABLE practices ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
)sql";

// Personal data at rest: users' email and display_name hold sealed BLOBs
// (store/sealed_fields.hpp) from here on, and email_hash (the email's lookup hash under
// the practice's data key) is what login finds and what keeps an email unique in its
// practice. store::open_sealed adds the data_keys table with it and seals existing rows
// in the same transaction (seal_existing_users).
constexpr std::string_view kSchemaV9 = R"sql(
ALTER TABLE users ADD COLUMN email_hash BLOB;
DROP INDEX users_practice_email;
CREATE UNIQUE INDEX users_practice_email_hash ON users(practice_id, email_hash);
)sql";

// Practice names and device names are sealed from here on (store::open_sealed runs
// seal_existing_names): a practice is often named after its therapist, a device after
// its owner ("Jo's phone").
constexpr std::string_view kSchemaV10 = "-- sealed practice and device names (store::open_sealed)";

// A device row and when it stopped being active: its own revocation, else its
// session's, else its session's expiry if that has passed (?1 is now). Append the
// WHERE clause; further parameters start at ?2.
#define DEVICE_SELECT                                                                                   \
  "SELECT d.id, d.user_id, d.practice_id, d.session_id, d.name, d.signing_public_key, "               \
  "d.agreement_public_key, d.agreement_key_signature, d.created_unix_ms, "                             \
  "COALESCE(d.revoked_unix_ms, s.revoked_unix_ms, "                                                   \
  "CASE WHEN s.expires_unix_ms <= ?1 THEN s.expires_unix_ms END) AS stopped, "                        \
  "d.certificate_signature, d.certificate_issued_unix_ms, d.identity_key_box "                         \
  "FROM devices d JOIN sessions s ON s.id = d.session_id "

// A device is active when nothing stopped it (same ?1).
#define DEVICE_ACTIVE "d.revoked_unix_ms IS NULL AND s.revoked_unix_ms IS NULL AND s.expires_unix_ms > ?1"

// A device counts for its user's correspondents: approved (it has a certificate), or
// its user has no identity key (older clients: every device counts).
#define DEVICE_TRUSTED \
  "(d.certificate_signature IS NOT NULL OR NOT EXISTS (SELECT 1 FROM identity_keys k WHERE k.user_id = d.user_id))"

// Drops a device's approval: its certificate and the identity key sealed for it.
#define DEVICE_CLEAR_CERTIFICATE \
  "certificate_signature = NULL, certificate_issued_unix_ms = NULL, identity_key_box = NULL"

// Device rows with their sealed name opened (a job's connection and the data keys).
class DeviceRows {
 public:
  DeviceRows(Connection& c, store::DataKeys& keys) : ciphers_(c, keys) {}

  Device operator()(const Statement& st) {
    Device d;
    d.id = st.column_text(0);
    d.user_id = st.column_text(1);
    d.practice_id = st.column_text(2);
    d.session_id = st.column_text(3);
    d.name = ciphers_.of(d.practice_id).open_optional("devices", "name", d.id, st.column_blob(4));
    d.signing_public_key = st.column_blob(5);
    d.agreement_public_key = st.column_blob(6);
    d.agreement_key_signature = st.column_blob(7);
    d.created_unix_ms = st.column_int(8);
    if (!st.column_is_null(9)) d.revoked_unix_ms = st.column_int(9);
    d.certificate_signature = st.column_blob(10);
    d.certificate_issued_unix_ms = st.column_int(11);
    d.identity_key_box = st.column_blob(12);
    return d;
  }

 private:
  store::PracticeCiphers ciphers_;
};

std::optional<Device> device_by_id(Connection& c, store::DataKeys& keys, const std::string& device_id,
                                   std::int64_t now) {
  return query_one(c, DEVICE_SELECT "WHERE d.id = ?2", DeviceRows(c, keys), now, device_id);
}

std::optional<Device> device_of_session(Connection& c, store::DataKeys& keys, const std::string& session_id,
                                        std::int64_t now) {
  return query_one(c, DEVICE_SELECT "WHERE d.session_id = ?2", DeviceRows(c, keys), now, session_id);
}

IdentityKey read_identity_key(const Statement& st) {
  return IdentityKey{st.column_text(0), st.column_blob(1), st.column_int(2)};
}

std::optional<IdentityKey> identity_key_of(Connection& c, const std::string& user_id) {
  return query_one(c, "SELECT user_id, public_key, set_unix_ms FROM identity_keys WHERE user_id = ?1",
                   read_identity_key, user_id);
}

void store_certificate(Connection& c, const std::string& device_id, const CertificateSignature& certificate) {
  execute(c, "UPDATE devices SET certificate_signature = ?2, certificate_issued_unix_ms = ?3 WHERE id = ?1",
          device_id, Blob{certificate.signature}, certificate.issued_unix_ms);
}

std::optional<ArchiveKey> archive_key_of(Connection& c, const std::string& practice_id) {
  auto read = [&](const Statement& st) {
    return ArchiveKey{practice_id,       st.column_blob(0), st.column_int(1),
                      st.column_blob(2), st.column_blob(3), st.column_int(4)};
  };
  return query_one(c,
                   "SELECT archive_key, archive_key_set_unix_ms, practice_public_key, archive_key_signature, "
                   "archive_key_issued_unix_ms FROM practices WHERE id = ?1 AND archive_key IS NOT NULL",
                   read, practice_id);
}

// A user row, in the order UserRows maps (table alias u). Append FROM/WHERE.
#define USER_SELECT                                                                           \
  "SELECT u.id, u.practice_id, u.email, u.display_name, u.role, u.created_unix_ms, u.time_zone, " \
  "u.deactivated_unix_ms "

// Maps USER_SELECT rows to users, opening the sealed email and display name with the
// practice's data key (looked up once per practice in the job).
class UserRows {
 public:
  UserRows(Connection& c, store::DataKeys& keys) : ciphers_(c, keys) {}

  User operator()(const Statement& st) {
    User u;
    u.id = st.column_text(0);
    u.practice_id = st.column_text(1);
    const auto& cipher = ciphers_.of(u.practice_id);
    u.email = cipher.open("users", "email", u.id, st.column_blob(2));
    u.display_name = cipher.open("users", "display_name", u.id, st.column_blob(3));
    u.role = parse_role(st.column_text(4)).value_or(Role::kClient);
    u.created_unix_ms = st.column_int(5);
    u.time_zone = st.column_text(6);
    if (!st.column_is_null(7)) u.deactivated_unix_ms = st.column_int(7);
    return u;
  }

 private:
  store::PracticeCiphers ciphers_;
};

}  // namespace

std::optional<Practice> practice_in(Connection& c, store::DataKeys& keys, const std::string& practice_id) {
  auto practice = query_one(
      c,
      "SELECT id, name, slug, created_unix_ms, therapists_book_any_client, require_two_factor_for_staff, "
      "time_zone FROM practices WHERE id = ?1",
      [](const Statement& st) {
        // The name is still sealed here; it is opened below with the practice's key.
        return Practice{st.column_text(0),     st.column_blob(1),     st.column_text(2), st.column_int(3),
                        st.column_int(4) != 0, st.column_int(5) != 0, st.column_text(6)};
      },
      practice_id);
  if (practice) practice->name = keys.cipher(c, practice_id).open_optional("practices", "name", practice_id, practice->name);
  return practice;
}

namespace {

// Stores the user's email and display name sealed (store/sealed_fields.hpp) and the
// email's lookup hash, by which login finds it and which keeps it unique in the practice.
void write_personal_fields(Connection& c, store::DataKeys& keys, const std::string& user_id,
                           const std::string& practice_id, const std::string& email,
                           const std::string& display_name) {
  const auto cipher = keys.cipher(c, practice_id);
  execute(c, "UPDATE users SET email = ?2, display_name = ?3, email_hash = ?4 WHERE id = ?1", user_id,
          Blob{cipher.seal("users", "email", user_id, email)},
          Blob{cipher.seal("users", "display_name", user_id, display_name)},
          Blob{cipher.lookup_hash("email", email)});
}

void insert_user(Connection& c, store::DataKeys& keys, const User& u, const std::string& password_hash) {
  auto& st = c.prepare(
      "INSERT INTO users (id, practice_id, email, display_name, role, password_hash, created_unix_ms, "
      "time_zone) VALUES (?1, ?2, '', '', ?3, ?4, ?5, ?6)");
  st.bind_all(u.id, u.practice_id, role_name(u.role), password_hash, u.created_unix_ms, u.time_zone);
  st.step();
  write_personal_fields(c, keys, u.id, u.practice_id, u.email, u.display_name);
}

bool email_taken(Connection& c, store::DataKeys& keys, const std::string& practice_id, const std::string& email) {
  return query_one(c, "SELECT 1 FROM users WHERE practice_id = ?1 AND email_hash = ?2",
                   [](const Statement&) { return true; }, practice_id,
                   Blob{keys.cipher(c, practice_id).lookup_hash("email", email)})
      .has_value();
}

// Schema v9: seals every user's email and display name in place (one transaction
// with the schema change), so no personal field stays in clear.
void seal_existing_users(Connection& c, store::DataKeys& keys) {
  struct Plain {
    std::string id, practice_id, email, display_name;
  };
  auto users = query_all(c, "SELECT id, practice_id, email, display_name FROM users", [](const Statement& st) {
    return Plain{st.column_text(0), st.column_text(1), st.column_text(2), st.column_text(3)};
  });
  for (auto& u : users) {
    write_personal_fields(c, keys, u.id, u.practice_id, u.email, u.display_name);
    crypto::wipe(u.email);
    crypto::wipe(u.display_name);
  }
}

// Schema v10: seals every practice's and device's name in place (one transaction with
// the migration).
void seal_existing_names(Connection& c, store::DataKeys& keys) {
  struct Named {
    std::string id, name;
  };
  auto practices = query_all(c, "SELECT id, name FROM practices",
                             [](const Statement& st) { return Named{st.column_text(0), st.column_text(1)}; });
  for (auto& p : practices) {
    execute(c, "UPDATE practices SET name = ?2 WHERE id = ?1", p.id,
            Blob{keys.cipher(c, p.id).seal_optional("practices", "name", p.id, p.name)});
    crypto::wipe(p.name);
  }
  struct Plain {
    std::string id, practice_id, name;
  };
  auto devices = query_all(c, "SELECT id, practice_id, name FROM devices", [](const Statement& st) {
    return Plain{st.column_text(0), st.column_text(1), st.column_text(2)};
  });
  for (auto& d : devices) {
    execute(c, "UPDATE devices SET name = ?2 WHERE id = ?1", d.id,
            Blob{keys.cipher(c, d.practice_id).seal_optional("devices", "name", d.id, d.name)});
    crypto::wipe(d.name);
  }
}

}  // namespace

std::optional<User> user_in(Connection& c, store::DataKeys& keys, const std::string& user_id) {
  return query_one(c, USER_SELECT "FROM users u WHERE u.id = ?1", UserRows(c, keys), user_id);
}

std::vector<std::string> end_sessions(Connection& c, const std::string& user_id, std::string_view reason,
                                      std::int64_t now, std::string_view keep) {
  auto ids = query_all(
      c,
      "SELECT id FROM sessions WHERE user_id = ?1 AND revoked_unix_ms IS NULL AND expires_unix_ms > ?2 "
      "AND id != ?3",
      [](const Statement& st) { return st.column_text(0); }, user_id, now, keep);
  execute(c,
          "UPDATE sessions SET revoked_unix_ms = ?2, revoke_reason = ?3 "
          "WHERE user_id = ?1 AND revoked_unix_ms IS NULL AND expires_unix_ms > ?2 AND id != ?4",
          user_id, now, reason, keep);
  return ids;
}

namespace {

// Whether another active admin of the practice remains besides `user_id`.
bool another_admin(Connection& c, const std::string& practice_id, const std::string& user_id) {
  return query_one(c,
                   "SELECT 1 FROM users WHERE practice_id = ?1 AND role = 'admin' AND "
                   "deactivated_unix_ms IS NULL AND id != ?2 LIMIT 1",
                   [](const Statement&) { return true; }, practice_id, user_id)
      .has_value();
}

bool on_a_care_team(Connection& c, const std::string& user_id, std::string_view column) {
  const std::string sql = "SELECT 1 FROM care_team WHERE " + std::string(column) + " = ?1 LIMIT 1";
  return query_one(c, sql, [](const Statement&) { return true; }, user_id).has_value();
}

Error last_admin() {
  return Error{Code::kFailedPrecondition,
               "user_id: this is the practice's last active admin; make another admin first", "user_id"};
}

// Applies `edit` to `user` (read in the same transaction); the sessions it ends go to `ended`.
Status apply_edit(Connection& c, store::DataKeys* keys, const AccountEdit& edit, User& user, std::vector<std::string>& ended,
                  std::int64_t now) {
  using Kind = AccountEdit::Kind;
  switch (edit.kind) {
    case Kind::kDeactivate:
      if (!user.active()) return {};
      if (user.role == Role::kAdmin && !another_admin(c, user.practice_id, user.id)) return last_admin();
      execute(c, "UPDATE users SET deactivated_unix_ms = ?2 WHERE id = ?1", user.id, now);
      ended = end_sessions(c, user.id, "deactivated", now);
      return {};
    case Kind::kReactivate:
      execute(c, "UPDATE users SET deactivated_unix_ms = NULL WHERE id = ?1", user.id);
      return {};
    case Kind::kSetRole:
      if (edit.role == user.role) return {};
      if (user.role == Role::kAdmin && user.active() && !another_admin(c, user.practice_id, user.id))
        return last_admin();
      if (user.role == Role::kClient && on_a_care_team(c, user.id, "client_id"))
        return Error{Code::kFailedPrecondition, "role: this client has a care team; a client stays a client",
                     "role"};
      if (user.role == Role::kTherapist && on_a_care_team(c, user.id, "therapist_id"))
        return Error{Code::kFailedPrecondition,
                     "role: this therapist is on clients' care teams; a therapist stays a therapist", "role"};
      execute(c, "UPDATE users SET role = ?2 WHERE id = ?1", user.id, role_name(edit.role));
      ended = end_sessions(c, user.id, "role_changed", now);
      return {};
    case Kind::kUpdate:
      if (edit.email && *edit.email != user.email && email_taken(c, *keys, user.practice_id, *edit.email))
        return Error{Code::kAlreadyExists, "email: a user with this email already exists", "email"};
      write_personal_fields(c, *keys, user.id, user.practice_id, edit.email.value_or(user.email),
                            edit.display_name.value_or(user.display_name));
      return {};
    case Kind::kStartReset:
      if (!user.active())
        return Error{Code::kFailedPrecondition, "user_id: the user is deactivated; reactivate them first",
                     "user_id"};
      execute(c, "UPDATE password_resets SET used_unix_ms = ?2 WHERE user_id = ?1 AND used_unix_ms IS NULL",
              user.id, now);
      execute(c,
              "INSERT INTO password_resets (token_hash, user_id, created_unix_ms, expires_unix_ms) "
              "VALUES (?1, ?2, ?3, ?4)",
              Blob{edit.reset_token_hash}, user.id, now, edit.reset_expires_unix_ms);
      // The old password stops working now, not when the new one is set.
      execute(c, "UPDATE users SET password_hash = '' WHERE id = ?1", user.id);
      ended = end_sessions(c, user.id, "password_reset", now);
      return {};
    case Kind::kResetTwoFactor:
      remove_two_factor(c, user.id, "reset", edit.by_user_id, now);
      ended = end_sessions(c, user.id, "two_factor_reset", now);
      return {};
  }
  return {};
}

// The reset token's user and practice slug, if the token is unused, unexpired and its user active.
std::optional<PasswordReset> live_reset(Connection& c, store::DataKeys* keys, const std::string& token_hash, std::int64_t now) {
  auto user_id = query_one(
      c, "SELECT user_id FROM password_resets WHERE token_hash = ?1 AND used_unix_ms IS NULL AND expires_unix_ms > ?2",
      [](const Statement& st) { return st.column_text(0); }, Blob{token_hash}, now);
  if (!user_id) return std::nullopt;
  auto user = user_in(c, *keys, *user_id);
  if (!user || !user->active()) return std::nullopt;
  auto practice = practice_in(c, *keys, user->practice_id);
  if (!practice) return std::nullopt;
  return PasswordReset{std::move(*user), practice->slug};
}

Error reset_invalid() {
  return Error{Code::kUnauthenticated,
               "reset_token: is not valid (unknown, used, replaced or expired); ask your practice's admin for a "
               "new one",
               "reset_token"};
}

Error account_deactivated() {
  return Error{Code::kPermissionDenied, "this account is deactivated; ask your practice's admin", {}};
}

Error refresh_invalid() {
  return Error{Code::kUnauthenticated, "refresh token is not valid", "refresh_token"};
}

// The replay of a create_practice key: what it made (remembered as "<practice> <admin>"), as it is now.
Result<Made<PracticeAndAdmin>> practice_made(Connection& c, store::DataKeys& keys, std::string_view remembered) {
  const auto space = remembered.find(' ');
  auto made = practice_in(c, keys, std::string(remembered.substr(0, space)));
  auto made_admin = user_in(c, keys, std::string(remembered.substr(space + 1)));
  if (!made || !made_admin) return Error{Code::kNotFound, "the practice this key made no longer exists", ""};
  return Made<PracticeAndAdmin>{{std::move(*made), std::move(*made_admin)}, true};
}

// The replay of a create_user key: the user it made, as they are now.
Result<Made<User>> user_made(Connection& c, store::DataKeys& keys, std::string_view remembered) {
  auto made = user_in(c, keys, std::string(remembered));
  if (!made) return Error{Code::kNotFound, "the user this key made no longer exists", ""};
  return Made<User>{std::move(*made), true};
}

// A read-only recall of `key` answered with `made` (nullopt: the key is new or empty).
template <class T, class Made>
Result<std::optional<T>> replay_of(Connection& c, store::DataKeys& keys, const store::IdempotentWrite& key,
                                   Made made) {
  auto seen = store::recall(c, key);
  if (!seen) return seen.error();
  if (!*seen) return std::optional<T>();
  auto replay = made(c, keys, **seen);
  if (!replay) return replay.error();
  return std::optional<T>(std::move(*replay));
}

}  // namespace

std::vector<store::Migration> identity_migrations() {
  return {store::Migration{1, kSchemaV1}, store::Migration{2, kSchemaV2},
          store::Migration{3, kSchemaV3}, store::Migration{4, kSchemaV4},
          store::Migration{5, kSchemaV5}, store::Migration{6, kSchemaV6},
          store::Migration{7, kSchemaV7}, store::Migration{8, kSchemaV8},
          store::Migration{kSealedUsersVersion, kSchemaV9}, store::Migration{kSealedNamesVersion, kSchemaV10}};
}

Result<std::unique_ptr<IdentityStore>> IdentityStore::open(const std::filesystem::path& path, store::KekPair keys) {
  store::DatabaseOptions options;
  options.path = path;
  options.migrations = identity_migrations();
  std::vector<store::SealStep> steps;
  steps.push_back(store::SealStep{kSealedUsersVersion, seal_existing_users});
  steps.push_back(store::SealStep{kSealedNamesVersion, seal_existing_names});
  auto writes = std::make_shared<std::atomic<std::uint64_t>>(0);
  options.after_write = [writes] { writes->fetch_add(1, std::memory_order_release); };
  auto opened = store::open_sealed(std::move(options), std::move(keys), std::move(steps));
  if (!opened) return std::move(opened).error();
  auto out = std::make_unique<IdentityStore>(std::move(opened->db), std::move(opened->keys), std::move(writes));
  out->rewrapped_data_keys_ = opened->rewrapped;
  return out;
}

IdentityStore::IdentityStore(std::unique_ptr<store::Database> db, std::shared_ptr<store::DataKeys> keys,
                             std::shared_ptr<const std::atomic<std::uint64_t>> writes)
    : db_(std::move(db)), keys_(std::move(keys)), writes_(std::move(writes)) {}

asio::awaitable<Result<Made<PracticeAndAdmin>>> IdentityStore::create_practice(Practice practice, User admin,
                                                                               std::string password_hash,
                                                                               store::IdempotentWrite key) {
  auto job = [keys = keys_.get(), practice = std::move(practice), admin = std::move(admin), password_hash = std::move(password_hash),
              key = std::move(key)](Connection& c) -> Result<Made<PracticeAndAdmin>> {
    auto seen = store::recall(c, key);
    if (!seen) return seen.error();
    if (*seen) return practice_made(c, *keys, **seen);
    auto& taken = c.prepare("SELECT 1 FROM practices WHERE slug = ?1");
    taken.bind(1, std::string_view(practice.slug));
    if (taken.step())
      return Error{Code::kAlreadyExists, "slug: a practice with this slug already exists", "slug"};
    execute(c, "INSERT INTO practices (id, name, slug, created_unix_ms) VALUES (?1, ?2, ?3, ?4)", practice.id,
            Blob{keys->cipher(c, practice.id).seal_optional("practices", "name", practice.id, practice.name)},
            practice.slug, practice.created_unix_ms);
    insert_user(c, *keys, admin, password_hash);
    store::remember(c, key, practice.id + " " + admin.id, practice.created_unix_ms);
    return Made<PracticeAndAdmin>{{practice, admin}};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<Made<User>>> IdentityStore::create_user(User user, std::string password_hash,
                                                               store::IdempotentWrite key) {
  auto job = [keys = keys_.get(), user = std::move(user), password_hash = std::move(password_hash),
              key = std::move(key)](Connection& c) -> Result<Made<User>> {
    auto seen = store::recall(c, key);
    if (!seen) return seen.error();
    if (*seen) return user_made(c, *keys, **seen);
    if (email_taken(c, *keys, user.practice_id, user.email))
      return Error{Code::kAlreadyExists, "email: a user with this email already exists", "email"};
    insert_user(c, *keys, user, password_hash);
    store::remember(c, key, user.id, user.created_unix_ms);
    return Made<User>{user};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<Made<PracticeAndAdmin>>>> IdentityStore::replay_practice(
    store::IdempotentWrite key) {
  if (key.key.empty()) co_return std::optional<Made<PracticeAndAdmin>>();
  auto job = [keys = keys_.get(), key = std::move(key)](Connection& c) {
    return replay_of<Made<PracticeAndAdmin>>(c, *keys, key, practice_made);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<Made<User>>>> IdentityStore::replay_user(store::IdempotentWrite key) {
  if (key.key.empty()) co_return std::optional<Made<User>>();
  auto job = [keys = keys_.get(), key = std::move(key)](Connection& c) {
    return replay_of<Made<User>>(c, *keys, key, user_made);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<LoginRecord>>> IdentityStore::find_login(std::string slug,
                                                                              std::string email) {
  auto job = [keys = keys_.get(), slug = std::move(slug),
              email = std::move(email)](Connection& c) -> Result<std::optional<LoginRecord>> {
    // Found by the email's lookup hash under the practice's data key (none yet: no users).
    auto practice_id = query_one(
        c, "SELECT p.id FROM practices p WHERE p.slug = ?1 AND EXISTS (SELECT 1 FROM data_keys k WHERE "
           "k.practice_id = p.id)",
        [](const Statement& st) { return st.column_text(0); }, slug);
    if (!practice_id) return std::optional<LoginRecord>();
    UserRows rows(c, *keys);
    auto read_login = [&rows](const Statement& st) {
      return LoginRecord{rows(st), st.column_text(8), st.column_int(9) != 0, st.column_int(10) != 0};
    };
    return query_one(c,
                     USER_SELECT ", u.password_hash, "
                                 "EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = u.id AND "
                                 "t.enabled_unix_ms IS NOT NULL), p.require_two_factor_for_staff "
                                 "FROM users u JOIN practices p ON p.id = u.practice_id "
                                 "WHERE u.practice_id = ?1 AND u.email_hash = ?2",
                     read_login, *practice_id, Blob{keys->cipher(c, *practice_id).lookup_hash("email", email)});
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<bool>> IdentityStore::replace_password_hash(std::string user_id, std::string old_hash,
                                                                   std::string new_hash) {
  auto job = [user_id = std::move(user_id), old_hash = std::move(old_hash),
              new_hash = std::move(new_hash)](Connection& c) -> Result<bool> {
    auto& st = c.prepare("UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2");
    st.bind_all(user_id, old_hash, new_hash);
    st.step();
    return c.changes() > 0;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<User>>> IdentityStore::find_user(std::string user_id) {
  auto job = [keys = keys_.get(), user_id = std::move(user_id)](Connection& c) -> Result<std::optional<User>> {
    return user_in(c, *keys, user_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<Practice>>> IdentityStore::find_practice(std::string practice_id) {
  auto job = [keys = keys_.get(), practice_id = std::move(practice_id)](Connection& c) -> Result<std::optional<Practice>> {
    return practice_in(c, *keys, practice_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<std::pair<User, Practice>>>> IdentityStore::find_user_in_practice(
    std::string user_id, std::string practice_id) {
  auto job = [keys = keys_.get(), user_id = std::move(user_id), practice_id = std::move(practice_id)](
                 Connection& c) -> Result<std::optional<std::pair<User, Practice>>> {
    using Me = std::optional<std::pair<User, Practice>>;
    auto user = user_in(c, *keys, user_id);
    if (!user || user->practice_id != practice_id) return Me{};
    auto practice = practice_in(c, *keys, practice_id);
    if (!practice) return Me{};
    return Me{std::pair{std::move(*user), std::move(*practice)}};
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<User>>> IdentityStore::list_users(std::string practice_id,
                                                                     std::optional<Role> role) {
  auto job = [keys = keys_.get(), practice_id = std::move(practice_id), role](Connection& c) -> Result<std::vector<User>> {
    std::optional<std::string_view> role_filter;
    if (role) role_filter = role_name(*role);
    return query_all(c,
                     USER_SELECT "FROM users u WHERE u.practice_id = ?1 AND (?2 IS NULL OR u.role = ?2) "
                                 "ORDER BY u.created_unix_ms, u.id",
                     UserRows(c, *keys), practice_id, role_filter);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<User>>> IdentityStore::search_clients(std::string practice_id,
                                                                         std::optional<std::string> therapist_id,
                                                                         ClientSearch search) {
  auto job = [keys = keys_.get(), practice_id = std::move(practice_id), therapist_id = std::move(therapist_id),
              search = std::move(search)](Connection& c) -> Result<std::vector<User>> {
    // Names and emails are sealed: the practice's clients are opened here and filtered
    // and paged in memory (client_search.hpp).
    std::optional<SearchPlace> after;
    if (!search.after_id.empty()) {
      auto cursor = user_in(c, *keys, search.after_id);
      if (!cursor || cursor->practice_id != practice_id || cursor->role != Role::kClient)
        return invalid_argument("cursor", "cursor: is not a cursor this search returned");
      after = search_place(*cursor);
    }
    auto clients = query_all(c,
                             USER_SELECT
                             "FROM users u WHERE u.practice_id = ?1 AND u.role = 'client' "
                             "AND (?2 IS NULL OR EXISTS (SELECT 1 FROM care_team ct "
                             "WHERE ct.client_id = u.id AND ct.therapist_id = ?2))",
                             UserRows(c, *keys), practice_id, therapist_id);
    return search_page(std::move(clients), search, after);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<UserDirectory>> IdentityStore::lookup_users(std::vector<std::string> user_ids) {
  auto job = [keys = keys_.get(), user_ids = std::move(user_ids)](Connection& c) -> Result<UserDirectory> {
    UserDirectory out;
    for (const auto& id : user_ids) {
      if (id.empty()) continue;
      auto user = user_in(c, *keys, id);
      if (!user) continue;
      const bool known = std::any_of(out.practices.begin(), out.practices.end(),
                                     [&](const Practice& p) { return p.id == user->practice_id; });
      if (!known) {
        if (auto practice = practice_in(c, *keys, user->practice_id)) out.practices.push_back(std::move(*practice));
      }
      out.users.push_back(std::move(*user));
    }
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<User>>> IdentityStore::set_time_zone(std::string user_id,
                                                                          std::string time_zone) {
  auto job = [keys = keys_.get(), user_id = std::move(user_id),
              time_zone = std::move(time_zone)](Connection& c) -> Result<std::optional<User>> {
    auto& st = c.prepare("UPDATE users SET time_zone = ?2 WHERE id = ?1");
    st.bind_all(user_id, time_zone);
    st.step();
    if (c.changes() == 0) return std::optional<User>();
    return user_in(c, *keys, user_id);
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<Made<CareTeamLink>>> IdentityStore::add_care_team_link(std::string practice_id,
                                                                             CareTeamLink link,
                                                                             store::IdempotentWrite key) {
  auto job = [keys = keys_.get(), practice_id = std::move(practice_id), link = std::move(link),
              key = std::move(key)](Connection& c) -> Result<Made<CareTeamLink>> {
    auto seen = store::recall(c, key);
    if (!seen) return seen.error();
    if (*seen) {
      auto made = query_one(
          c, "SELECT created_unix_ms FROM care_team WHERE client_id = ?1 AND therapist_id = ?2",
          [](Statement& s) { return s.column_int(0); }, link.client_id, link.therapist_id);
      if (!made) return Error{Code::kNotFound, "the care-team link this key made no longer exists", ""};
      return Made<CareTeamLink>{CareTeamLink{link.client_id, link.therapist_id, *made}, true};
    }
    auto client = user_in(c, *keys, link.client_id);
    if (!client || client->practice_id != practice_id || client->role != Role::kClient)
      return Error{Code::kNotFound, "client_id: no such client", "client_id"};
    auto therapist = user_in(c, *keys, link.therapist_id);
    if (!therapist || therapist->practice_id != practice_id || therapist->role != Role::kTherapist)
      return Error{Code::kNotFound, "therapist_id: no such therapist", "therapist_id"};
    if (query_one(c, "SELECT 1 FROM care_team WHERE client_id = ?1 AND therapist_id = ?2",
                  [](Statement&) { return true; }, link.client_id, link.therapist_id))
      return Error{Code::kAlreadyExists, "this therapist is already on the client's care team",
                   "therapist_id"};
    execute(c,
            "INSERT INTO care_team (client_id, therapist_id, practice_id, created_unix_ms) VALUES (?1, ?2, ?3, ?4)",
            link.client_id, link.therapist_id, practice_id, link.created_unix_ms);
    store::remember(c, key, link.client_id + " " + link.therapist_id, link.created_unix_ms);
    return Made<CareTeamLink>{link};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<CareTeamLink>>> IdentityStore::list_care_team(std::string client_id) {
  auto job = [client_id = std::move(client_id)](Connection& c) -> Result<std::vector<CareTeamLink>> {
    std::vector<CareTeamLink> out;
    auto& st = c.prepare(
        "SELECT client_id, therapist_id, created_unix_ms FROM care_team WHERE client_id = ?1 "
        "ORDER BY created_unix_ms, therapist_id");
    st.bind(1, std::string_view(client_id));
    while (st.step()) out.push_back(CareTeamLink{st.column_text(0), st.column_text(1), st.column_int(2)});
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Status> IdentityStore::create_session(Session session, std::string refresh_hash,
                                                      std::int64_t refresh_expires_unix_ms) {
  auto job = [keys = keys_.get(), session = std::move(session), refresh_hash = std::move(refresh_hash),
              refresh_expires_unix_ms](Connection& c) -> Status {
    // Checked here, not only at login: a deactivation may commit while the password is checked.
    auto user = user_in(c, *keys, session.user_id);
    if (!user || !user->active()) return account_deactivated();
    auto& st = c.prepare(
        "INSERT INTO sessions (id, user_id, practice_id, created_unix_ms, expires_unix_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    st.bind(1, std::string_view(session.id));
    st.bind(2, std::string_view(session.user_id));
    st.bind(3, std::string_view(session.practice_id));
    st.bind(4, static_cast<std::int64_t>(session.created_unix_ms));
    st.bind(5, static_cast<std::int64_t>(session.expires_unix_ms));
    st.step();
    auto& tok = c.prepare(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_unix_ms, expires_unix_ms) "
        "VALUES (?1, ?2, ?3, ?4)");
    tok.bind_blob(1, refresh_hash);
    tok.bind(2, std::string_view(session.id));
    tok.bind(3, static_cast<std::int64_t>(session.created_unix_ms));
    tok.bind(4, static_cast<std::int64_t>(refresh_expires_unix_ms));
    tok.step();
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<Rotation>> IdentityStore::rotate_refresh(std::string old_hash, std::string new_hash,
                                                                std::int64_t now, std::int64_t new_expires) {
  auto job = [keys = keys_.get(), old_hash = std::move(old_hash), new_hash = std::move(new_hash), now,
              new_expires](Connection& c) -> Result<Rotation> {
    auto& tok = c.prepare(
        "SELECT t.expires_unix_ms, t.used_unix_ms, s.id, s.user_id, s.practice_id, s.created_unix_ms, "
        "s.expires_unix_ms, s.revoked_unix_ms, s.revoke_reason "
        "FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = ?1");
    tok.bind_blob(1, old_hash);
    if (!tok.step()) return refresh_invalid();
    const std::int64_t token_expires = tok.column_int(0);
    const bool used = !tok.column_is_null(1);
    Rotation r;
    r.session.id = tok.column_text(2);
    r.session.user_id = tok.column_text(3);
    r.session.practice_id = tok.column_text(4);
    r.session.created_unix_ms = tok.column_int(5);
    r.session.expires_unix_ms = tok.column_int(6);
    if (!tok.column_is_null(7)) r.session.revoked_unix_ms = tok.column_int(7);
    if (!tok.column_is_null(8)) r.session.revoke_reason = tok.column_text(8);
    tok.reset();

    if (r.session.revoked_unix_ms || r.session.expires_unix_ms <= now) return refresh_invalid();
    if (used) {
      // Someone replayed a rotated token: the session family is compromised.
      auto& rev = c.prepare(
          "UPDATE sessions SET revoked_unix_ms = ?2, revoke_reason = 'refresh_token_reused' "
          "WHERE id = ?1 AND revoked_unix_ms IS NULL");
      rev.bind(1, std::string_view(r.session.id));
      rev.bind(2, now);
      rev.step();
      r.session.revoked_unix_ms = now;
      r.outcome = Rotation::Outcome::kReused;
      return r;
    }
    if (token_expires <= now) return refresh_invalid();
    auto user = user_in(c, *keys, r.session.user_id);
    if (!user || !user->active()) return refresh_invalid();
    r.user = std::move(*user);

    auto& mark = c.prepare("UPDATE refresh_tokens SET used_unix_ms = ?2 WHERE token_hash = ?1");
    mark.bind_blob(1, old_hash);
    mark.bind(2, now);
    mark.step();
    auto& ins = c.prepare(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_unix_ms, expires_unix_ms) "
        "VALUES (?1, ?2, ?3, ?4)");
    ins.bind_blob(1, new_hash);
    ins.bind(2, std::string_view(r.session.id));
    ins.bind(3, now);
    // A rotated token never outlives its session.
    ins.bind(4, std::min(new_expires, r.session.expires_unix_ms));
    ins.step();
    r.outcome = Rotation::Outcome::kRotated;
    return r;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<bool>> IdentityStore::revoke_session(std::string session_id, std::string user_id,
                                                            std::string reason, std::int64_t now) {
  auto job = [session_id = std::move(session_id), user_id = std::move(user_id), reason = std::move(reason),
              now](Connection& c) -> Result<bool> {
    auto& st = c.prepare(
        "UPDATE sessions SET revoked_unix_ms = ?3, revoke_reason = ?4 "
        "WHERE id = ?1 AND user_id = ?2 AND revoked_unix_ms IS NULL");
    st.bind(1, std::string_view(session_id));
    st.bind(2, std::string_view(user_id));
    st.bind(3, now);
    st.bind(4, std::string_view(reason));
    st.step();
    return c.changes() > 0;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<DeviceRegistration>> IdentityStore::register_device(Device device, std::int64_t now) {
  auto job = [keys = keys_.get(), device = std::move(device), now](Connection& c) -> Result<DeviceRegistration> {
    if (auto existing = device_of_session(c, *keys, device.session_id, now)) {
      if (existing->signing_public_key == device.signing_public_key &&
          existing->agreement_public_key == device.agreement_public_key)
        return DeviceRegistration{std::move(*existing), false};
      return make_error(Code::kAlreadyExists,
                        "this session already has a device with other keys; sign in again to register "
                        "another");
    }
    auto& session = c.prepare(
        "SELECT 1 FROM sessions WHERE id = ?1 AND user_id = ?2 AND revoked_unix_ms IS NULL "
        "AND expires_unix_ms > ?3");
    session.bind(1, std::string_view(device.session_id));
    session.bind(2, std::string_view(device.user_id));
    session.bind(3, now);
    if (!session.step()) return make_error(Code::kUnauthenticated, "sign in first");
    session.reset();

    auto& count = c.prepare(
        "SELECT COUNT(*) FROM devices d JOIN sessions s ON s.id = d.session_id "
        "WHERE d.user_id = ?2 AND " DEVICE_ACTIVE);
    count.bind(1, now);
    count.bind(2, std::string_view(device.user_id));
    count.step();
    if (static_cast<std::size_t>(count.column_int(0)) >= kMaxActiveDevicesPerUser)
      return make_error(Code::kResourceExhausted,
                        "at most " + std::to_string(kMaxActiveDevicesPerUser) +
                            " active devices per user; revoke one first");
    count.reset();

    auto& ins = c.prepare(
        "INSERT INTO devices (id, user_id, practice_id, session_id, name, signing_public_key, "
        "agreement_public_key, agreement_key_signature, created_unix_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    ins.bind(1, std::string_view(device.id));
    ins.bind(2, std::string_view(device.user_id));
    ins.bind(3, std::string_view(device.practice_id));
    ins.bind(4, std::string_view(device.session_id));
    const std::string sealed_name =
        keys->cipher(c, device.practice_id).seal_optional("devices", "name", device.id, device.name);
    ins.bind_blob(5, sealed_name);
    ins.bind_blob(6, device.signing_public_key);
    ins.bind_blob(7, device.agreement_public_key);
    ins.bind_blob(8, device.agreement_key_signature);
    ins.bind(9, static_cast<std::int64_t>(device.created_unix_ms));
    ins.step();
    DeviceRegistration r{device, true};
    r.device.revoked_unix_ms.reset();
    return r;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<Device>>> IdentityStore::list_devices(std::string user_id,
                                                                         std::int64_t now) {
  auto job = [keys = keys_.get(), user_id = std::move(user_id), now](Connection& c) -> Result<std::vector<Device>> {
    std::vector<Device> out;
    auto& st = c.prepare(DEVICE_SELECT
                         "WHERE d.user_id = ?2 "
                         "ORDER BY stopped IS NOT NULL, stopped DESC, d.created_unix_ms, d.rowid");
    st.bind(1, now);
    st.bind(2, std::string_view(user_id));
    std::size_t revoked = 0;
    DeviceRows rows(c, *keys);
    while (st.step()) {
      Device d = rows(st);
      if (d.revoked_unix_ms && ++revoked > kMaxListedRevokedDevices) break;
      out.push_back(std::move(d));
    }
    st.reset();
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<DeviceRevocation>> IdentityStore::revoke_device(std::string device_id, DeviceRevoker by,
                                                                       std::int64_t now) {
  auto job = [keys = keys_.get(), device_id = std::move(device_id), by = std::move(by),
              now](Connection& c) -> Result<DeviceRevocation> {
    auto device = device_by_id(c, *keys, device_id, now);
    const bool allowed =
        device && (device->user_id == by.user_id || (by.admin && device->practice_id == by.practice_id));
    // Someone else's device is indistinguishable from no device.
    if (!allowed) return Error{Code::kNotFound, "device_id: no such device", "device_id"};
    DeviceRevocation r{std::move(*device), false};
    if (r.device.revoked_unix_ms) return r;  // already inactive: nothing more to end

    auto& dev = c.prepare("UPDATE devices SET revoked_unix_ms = ?2 WHERE id = ?1 AND revoked_unix_ms IS NULL");
    dev.bind(1, std::string_view(r.device.id));
    dev.bind(2, now);
    dev.step();
    auto& ses = c.prepare(
        "UPDATE sessions SET revoked_unix_ms = ?2, revoke_reason = 'device_revoked' "
        "WHERE id = ?1 AND revoked_unix_ms IS NULL");
    ses.bind(1, std::string_view(r.device.session_id));
    ses.bind(2, now);
    ses.step();
    r.session_revoked = c.changes() > 0;
    r.device.revoked_unix_ms = now;
    return r;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<ActiveDevices>> IdentityStore::list_active_devices(std::string practice_id,
                                                                          std::vector<std::string> user_ids,
                                                                          std::string session_id,
                                                                          std::int64_t now,
                                                                          bool include_inactive) {
  // By user id, each user once: the answer does not depend on the request's order.
  std::sort(user_ids.begin(), user_ids.end());
  user_ids.erase(std::unique(user_ids.begin(), user_ids.end()), user_ids.end());
  auto job = [keys = keys_.get(), practice_id = std::move(practice_id), user_ids = std::move(user_ids),
              session_id = std::move(session_id), now, include_inactive](Connection& c) -> Result<ActiveDevices> {
    ActiveDevices out;
    DeviceRows rows(c, *keys);
    auto& st = c.prepare(DEVICE_SELECT "WHERE d.user_id = ?2 AND d.practice_id = ?3 AND " DEVICE_ACTIVE
                                       " AND " DEVICE_TRUSTED " ORDER BY d.created_unix_ms, d.rowid");
    for (const auto& user_id : user_ids) {
      if (user_id.empty()) continue;
      st.reset();
      st.bind(1, now);
      st.bind(2, std::string_view(user_id));
      st.bind(3, std::string_view(practice_id));
      while (st.step()) out.devices.push_back(rows(st));
    }
    st.reset();
    if (include_inactive) {
      // After every active device, so a reader taking only the first ones (or
      // skipping those with revoked_unix_ms) never mistakes one for a recipient.
      auto& gone = c.prepare(DEVICE_SELECT "WHERE d.user_id = ?2 AND d.practice_id = ?3 AND NOT (" DEVICE_ACTIVE
                                           ") AND " DEVICE_TRUSTED
                                           " ORDER BY stopped DESC, d.created_unix_ms, d.rowid LIMIT ?4");
      for (const auto& user_id : user_ids) {
        if (user_id.empty()) continue;
        gone.reset();
        gone.bind(1, now);
        gone.bind(2, std::string_view(user_id));
        gone.bind(3, std::string_view(practice_id));
        gone.bind(4, static_cast<std::int64_t>(kMaxListedRevokedDevices));
        while (gone.step()) out.devices.push_back(rows(gone));
      }
      gone.reset();
    }
    if (!session_id.empty()) {
      auto& own = c.prepare("SELECT d.id FROM devices d JOIN sessions s ON s.id = d.session_id "
                            "WHERE d.session_id = ?2 AND d.practice_id = ?3 AND " DEVICE_ACTIVE);
      own.bind(1, now);
      own.bind(2, std::string_view(session_id));
      own.bind(3, std::string_view(practice_id));
      if (own.step()) out.session_device_id = own.column_text(0);
      own.reset();
    }
    for (const auto& user_id : user_ids) {
      auto key = query_one(c,
                           "SELECT k.user_id, k.public_key, k.set_unix_ms FROM identity_keys k "
                           "JOIN users u ON u.id = k.user_id WHERE k.user_id = ?1 AND u.practice_id = ?2",
                           read_identity_key, user_id, practice_id);
      if (key) out.identity_keys.push_back(std::move(*key));
    }
    out.archive_key = archive_key_of(c, practice_id);
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<DeviceTrust>> IdentityStore::find_device_trust(std::string user_id, std::string session_id,
                                                                      std::string device_id, std::int64_t now) {
  auto job = [keys = keys_.get(), user_id = std::move(user_id), session_id = std::move(session_id), device_id = std::move(device_id),
              now](Connection& c) -> Result<DeviceTrust> {
    DeviceTrust out;
    out.own = device_of_session(c, *keys, session_id, now);
    if (!device_id.empty()) out.target = device_by_id(c, *keys, device_id, now);
    out.identity_key = identity_key_of(c, user_id);
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<IdentityKey>>> IdentityStore::find_identity_key(std::string user_id) {
  auto job = [user_id = std::move(user_id)](Connection& c) -> Result<std::optional<IdentityKey>> {
    return identity_key_of(c, user_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<IdentityKeySet>> IdentityStore::set_identity_key(IdentityKey key, std::string session_id,
                                                                        std::string device_id,
                                                                        CertificateSignature certificate,
                                                                        bool reset, std::int64_t now) {
  auto job = [keys = keys_.get(), key = std::move(key), session_id = std::move(session_id), device_id = std::move(device_id),
              certificate = std::move(certificate), reset, now](Connection& c) -> Result<IdentityKeySet> {
    // The certificate was checked against this device: it must still be the session's, and active.
    auto own = device_of_session(c, *keys, session_id, now);
    if (auto s = check_own_device(key.user_id, own); !s) return s.error();
    if (own->id != device_id) return make_error(Code::kFailedPrecondition, "this session's device changed");
    auto current = identity_key_of(c, key.user_id);
    auto change = identity_key_change(current, key.public_key, reset);
    if (!change) return std::move(change).error();
    IdentityKeySet out{*change, current && *change == IdentityKeyChange::kSame ? *current : key, {}};
    switch (*change) {
      case IdentityKeyChange::kFirst:
        execute(c, "INSERT INTO identity_keys (user_id, public_key, set_unix_ms) VALUES (?1, ?2, ?3)", key.user_id,
                Blob{key.public_key}, key.set_unix_ms);
        break;
      case IdentityKeyChange::kSame:
        break;
      case IdentityKeyChange::kReplace:
        execute(c, "UPDATE identity_keys SET public_key = ?2, set_unix_ms = ?3 WHERE user_id = ?1", key.user_id,
                Blob{key.public_key}, key.set_unix_ms);
        // Certificates under the old key no longer approve anything, and the boxes hold the old private key.
        execute(c, "UPDATE devices SET " DEVICE_CLEAR_CERTIFICATE " WHERE user_id = ?1", key.user_id);
        break;
    }
    store_certificate(c, device_id, certificate);
    out.device = *device_by_id(c, *keys, device_id, now);
    return out;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<Device>> IdentityStore::approve_device(DeviceApproval approval, std::int64_t now) {
  auto job = [keys = keys_.get(), approval = std::move(approval), now](Connection& c) -> Result<Device> {
    auto approver = device_of_session(c, *keys, approval.session_id, now);
    auto target = device_by_id(c, *keys, approval.device_id, now);
    auto key = identity_key_of(c, approval.user_id);
    if (auto s = check_approval(approval.user_id, approver, target, key); !s) return s.error();
    // The certificate was verified under this key; a reset since then voids it.
    if (key->public_key != approval.identity_public_key)
      return make_error(Code::kFailedPrecondition, "the identity key changed meanwhile; approve again");
    store_certificate(c, approval.device_id, approval.certificate);
    std::optional<Blob> box;
    if (!approval.identity_key_box.empty()) box = Blob{approval.identity_key_box};
    execute(c, "UPDATE devices SET identity_key_box = ?2 WHERE id = ?1", approval.device_id, box);
    return *device_by_id(c, *keys, approval.device_id, now);
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<ArchiveKey>>> IdentityStore::set_archive_key(ArchiveKey key) {
  auto job = [key = std::move(key)](Connection& c) -> Result<std::optional<ArchiveKey>> {
    // An empty agreement key removes the archive key and whatever signed it; an unsigned
    // one keeps no signature fields.
    const bool remove = key.agreement_public_key.empty();
    const bool is_signed = !remove && !key.practice_public_key.empty();
    auto blob_if = [](bool keep, const std::string& bytes) {
      return keep ? std::optional<Blob>(Blob{bytes}) : std::nullopt;
    };
    auto int_if = [](bool keep, std::int64_t v) { return keep ? std::optional<std::int64_t>(v) : std::nullopt; };
    const int changed = execute(c,
                                "UPDATE practices SET archive_key = ?2, archive_key_set_unix_ms = ?3, "
                                "practice_public_key = ?4, archive_key_signature = ?5, "
                                "archive_key_issued_unix_ms = ?6 WHERE id = ?1",
                                key.practice_id, blob_if(!remove, key.agreement_public_key),
                                int_if(!remove, key.set_unix_ms), blob_if(is_signed, key.practice_public_key),
                                blob_if(is_signed, key.archive_key_signature), int_if(is_signed, key.issued_unix_ms));
    if (changed == 0) return Error{Code::kNotFound, "practice not found", ""};
    if (remove) return std::optional<ArchiveKey>();
    return archive_key_of(c, key.practice_id);
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<ArchiveKey>>> IdentityStore::find_archive_key(std::string practice_id) {
  auto job = [practice_id = std::move(practice_id)](Connection& c) -> Result<std::optional<ArchiveKey>> {
    return archive_key_of(c, practice_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<std::string>>> IdentityStore::revoked_since(std::int64_t since) {
  auto job = [since](Connection& c) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    auto& st = c.prepare(
        "SELECT id FROM sessions WHERE revoked_unix_ms IS NOT NULL AND revoked_unix_ms >= ?1 "
        "ORDER BY revoked_unix_ms");
    st.bind(1, since);
    while (st.step()) out.push_back(st.column_text(0));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<AccountChange>> IdentityStore::edit_account(AccountEdit edit, std::int64_t now) {
  auto job = [keys = keys_.get(), edit = std::move(edit), now](Connection& c) -> Result<AccountChange> {
    auto user = user_in(c, *keys, edit.user_id);
    if (!user || user->practice_id != edit.practice_id)
      return Error{Code::kNotFound, "user_id: no such user", "user_id"};
    AccountChange change;
    if (auto s = apply_edit(c, keys, edit, *user, change.ended_sessions, now); !s) return s.error();
    change.user = *user_in(c, *keys, edit.user_id);
    return change;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<std::vector<std::string>>>> IdentityStore::change_password(
    std::string user_id, std::string old_hash, std::string new_hash, std::string keep_session_id, std::int64_t now) {
  auto job = [user_id = std::move(user_id), old_hash = std::move(old_hash), new_hash = std::move(new_hash),
              keep = std::move(keep_session_id), now](Connection& c) -> Result<std::optional<std::vector<std::string>>> {
    if (execute(c, "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2", user_id, old_hash,
                new_hash) == 0)
      return std::optional<std::vector<std::string>>();
    return std::optional(end_sessions(c, user_id, "password_changed", now, keep));
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<Practice>>> IdentityStore::set_practice_policy(std::string practice_id,
                                                                                 PracticePolicyChange change) {
  auto job = [keys = keys_.get(), practice_id = std::move(practice_id), change](Connection& c) -> Result<std::optional<Practice>> {
    auto flag = [](std::optional<bool> v) -> std::optional<std::int64_t> {
      if (!v) return std::nullopt;
      return *v ? 1 : 0;
    };
    execute(c,
            "UPDATE practices SET therapists_book_any_client = COALESCE(?2, therapists_book_any_client), "
            "require_two_factor_for_staff = COALESCE(?3, require_two_factor_for_staff), "
            "time_zone = COALESCE(?4, time_zone) WHERE id = ?1",
            practice_id, flag(change.therapists_book_any_client), flag(change.require_two_factor_for_staff),
            change.time_zone);
    return practice_in(c, *keys, practice_id);
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<PasswordReset>> IdentityStore::find_password_reset(std::string token_hash,
                                                                          std::int64_t now) {
  auto job = [keys = keys_.get(), token_hash = std::move(token_hash), now](Connection& c) -> Result<PasswordReset> {
    auto reset = live_reset(c, keys, token_hash, now);
    if (!reset) return reset_invalid();
    return std::move(*reset);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<PasswordReset>> IdentityStore::redeem_password_reset(std::string token_hash,
                                                                            std::string password_hash,
                                                                            std::int64_t now) {
  auto job = [keys = keys_.get(), token_hash = std::move(token_hash), password_hash = std::move(password_hash),
              now](Connection& c) -> Result<PasswordReset> {
    auto reset = live_reset(c, keys, token_hash, now);
    if (!reset) return reset_invalid();
    execute(c, "UPDATE password_resets SET used_unix_ms = ?2 WHERE token_hash = ?1", Blob{token_hash}, now);
    execute(c, "UPDATE users SET password_hash = ?2 WHERE id = ?1", reset->user.id, password_hash);
    return std::move(*reset);
  };
  co_return co_await db_->write(std::move(job));
}

}  // namespace alliance::identity
