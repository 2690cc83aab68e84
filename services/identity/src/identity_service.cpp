#include "identity_service.hpp"

#include "alliance/core/blocking.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/identity_keys.hpp"
#include "alliance/crypto/password.hpp"
#include "alliance/crypto/wipe.hpp"
#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/client.hpp"
#include "handler_common.hpp"

namespace alliance::identity {

Result<Caller> require_user(const net::CallContext& ctx) {
  const auto& c = ctx.caller;
  auto role = parse_role(c.role());
  if (c.user_id().empty() || c.practice_id().empty() || !role)
    return make_error(Code::kUnauthenticated, "sign in first");
  return Caller{c.user_id(), c.practice_id(), c.session_id(), role};
}

Error no_such_user() { return Error{Code::kNotFound, "user_id: no such user", "user_id"}; }

Error locked_out(std::chrono::milliseconds retry_after) {
  Error e = make_error(Code::kResourceExhausted, "too many failed sign-in attempts; try again later");
  e.retry_after = retry_after;
  return e;
}

void fill(pb::User& out, const User& u) {
  out.set_id(u.id);
  out.set_practice_id(u.practice_id);
  out.set_email(u.email);
  out.set_display_name(u.display_name);
  out.set_role(std::string(role_name(u.role)));
  out.set_created_unix_ms(u.created_unix_ms);
  out.set_time_zone(u.time_zone);
  out.set_deactivated_unix_ms(u.deactivated_unix_ms.value_or(0));
}

void fill(pb::Practice& out, const Practice& p) {
  out.set_id(p.id);
  out.set_name(p.name);
  out.set_slug(p.slug);
  out.set_created_unix_ms(p.created_unix_ms);
  out.set_therapists_book_any_client(p.therapists_book_any_client);
  out.set_require_two_factor_for_staff(p.require_two_factor_for_staff);
  out.set_time_zone(p.time_zone);
}

namespace {

using store::request_digest;

// A create request as its idempotency key is bound to it: the password is left out (the
// digest is stored, and an unsalted hash of a password must not be).
pb::CreatePracticeRequest without_password(pb::CreatePracticeRequest req) {
  req.clear_admin_password();
  req.clear_operator_token();
  return req;
}
pb::CreateUserRequest without_password(pb::CreateUserRequest req) {
  req.clear_password();
  return req;
}

Error invalid_credentials() { return make_error(Code::kUnauthenticated, "invalid email or password"); }

Error not_found(std::string field, std::string what) {
  return Error{Code::kNotFound, std::move(what), std::move(field)};
}

// The user a request names in user_id ("me" or "" for the caller); no_such_user() when
// there is none. Whether the caller may see or change them is the caller's next check.
asio::awaitable<Result<User>> named_user(IdentityStore& store, const Caller& caller, const std::string& user_id) {
  const std::string target_id = user_id.empty() || user_id == "me" ? caller.user_id : user_id;
  if (target_id.size() > 64) co_return no_such_user();
  auto target = co_await store.find_user(target_id);
  if (!target) co_return target.error();
  if (!*target) co_return no_such_user();
  co_return std::move(**target);
}

void fill(pb::CareTeamLink& out, const CareTeamLink& l) {
  out.set_client_id(l.client_id);
  out.set_therapist_id(l.therapist_id);
  out.set_created_unix_ms(l.created_unix_ms);
}

// `current`: the device is the one the calling session registered.
void fill(pb::Device& out, const Device& d, bool current) {
  out.set_id(d.id);
  out.set_user_id(d.user_id);
  out.set_name(d.name);
  out.set_signing_public_key(d.signing_public_key);
  out.set_agreement_public_key(d.agreement_public_key);
  out.set_agreement_key_signature(d.agreement_key_signature);
  out.set_created_unix_ms(d.created_unix_ms);
  out.set_revoked_unix_ms(d.revoked_unix_ms.value_or(0));
  out.set_current(current);
  out.set_certificate_signature(d.certificate_signature);
  out.set_certificate_issued_unix_ms(d.certificate_issued_unix_ms);
  out.set_approved(d.approved());
  // identity_key_box is set by ListDevices alone, on the caller's own device.
}

void fill(pb::IdentityKey& out, const IdentityKey& k) {
  out.set_user_id(k.user_id);
  out.set_public_key(k.public_key);
  out.set_set_unix_ms(k.set_unix_ms);
}

void fill(pb::ArchiveKey& out, const ArchiveKey& k) {
  out.set_practice_id(k.practice_id);
  out.set_agreement_public_key(k.agreement_public_key);
  out.set_set_unix_ms(k.set_unix_ms);
  out.set_practice_public_key(k.practice_public_key);
  out.set_archive_key_signature(k.archive_key_signature);
  out.set_issued_unix_ms(k.issued_unix_ms);
  if (!k.practice_public_key.empty()) out.set_practice_key_fingerprint(crypto::key_fingerprint(k.practice_public_key));
}

pb::ArchiveKeyResponse archive_key_response(const std::optional<ArchiveKey>& key) {
  pb::ArchiveKeyResponse resp;
  if (key) fill(*resp.mutable_archive_key(), *key);
  return resp;
}

crypto::ScryptParams scrypt_params(int log2_n) {
  crypto::ScryptParams p;
  p.n = std::uint64_t{1} << log2_n;
  return p;
}

}  // namespace

Status require_internal(const net::CallContext& ctx) {
  if (!ctx.caller.user_id().empty())
    return make_error(Code::kPermissionDenied, "this method is for services only");
  return {};
}


IdentityService::IdentityService(IdentityStore& store, redis::Client* redis, asio::any_io_executor hash_pool,
                                 crypto::Ed25519PrivateKey signing_key, IdentityOptions options)
    : store_(store),
      redis_(redis),
      hash_pool_(std::move(hash_pool)),
      tokens_(std::move(signing_key),
              TokenIssuer::Options{options.token_issuer, options.token_audience, options.access_token_ttl}),
      options_(std::move(options)),
      throttle_(redis, LoginThrottle::Options{options_.login_backoff_after, options_.login_backoff_max}),
      two_factor_seal_(tokens_.derive_key("alliance-two-factor-secrets-v1")) {
  const int min_log2_n = options_.insecure_scrypt_for_tests ? kMinTestScryptLog2N : kMinScryptLog2N;
  if (options_.scrypt_log2_n < min_log2_n || options_.scrypt_log2_n > kMaxScryptLog2N)
    throw std::invalid_argument("scrypt_log2_n must be between " + std::to_string(min_log2_n) + " and " +
                                std::to_string(kMaxScryptLog2N));
  if (options_.insecure_scrypt_for_tests)
    log::warn("INSECURE: insecure_scrypt_log2_n_for_tests is set; passwords are hashed at a cost meant for "
              "tests and benchmarks only and are cheap to guess. Never set it where real people sign in.",
              {{"scrypt_log2_n", options_.scrypt_log2_n}, {"secure_minimum", kMinScryptLog2N}});
  if (!options_.operator_token.empty()) operator_digest_ = crypto::sha256(options_.operator_token);
  options_.operator_token.clear();
  // Same parameters as real hashes, so an unknown user costs what a known one does.
  dummy_hash_ = crypto::hash_password(crypto::base64url_encode(random_bytes(16)),
                                      scrypt_params(options_.scrypt_log2_n));
  // Loads the time-zone database now rather than inside the first SetTimeZone.
  if (!validate_time_zone("UTC")) throw std::runtime_error("the time-zone database has no UTC zone");
}

asio::awaitable<Result<std::string>> IdentityService::hash_new_password(std::string password, PasswordOwner owner,
                                                                         std::string field) {
  // Named before the co_await (g++ 12 frees a lambda temporary in a co_await twice).
  auto job = [password = std::move(password), owner = std::move(owner), field = std::move(field),
              params = scrypt_params(options_.scrypt_log2_n), policy = &passwords_,
              hashed = &passwords_hashed_]() mutable noexcept
      -> Result<std::string> {
    crypto::WipeOnExit wipe_password(password);
    try {
      if (auto s = policy->check(password, owner, field); !s) return s.error();
      hashed->fetch_add(1);
      return crypto::hash_password(password, params);
    } catch (const std::exception&) {
      return make_error(Code::kInternal, "could not hash the password");
    }
  };
  co_return co_await run_blocking(hash_pool_, std::move(job));
}

asio::awaitable<void> IdentityService::publish_revocation(const std::string& session_id, std::int64_t now) {
  if (!redis_) co_return;
  alliance::push::v1::SessionRevoked msg;
  msg.set_session_id(session_id);
  msg.set_expires_unix_ms(now + options_.access_token_ttl.count());
  std::vector<std::string> cmd{"PUBLISH", std::string(kRevocationChannel), msg.SerializeAsString()};
  auto r = co_await redis_->command(std::move(cmd));
  // Gateways also poll ListRevokedSessions, so a lost publish is caught up later.
  if (!r)
    log::warn("could not publish session revocation",
              {{"session_id", session_id}, {"reason", r.error().message}});
}

asio::awaitable<void> IdentityService::publish_device_change(const std::string& subject) {
  if (!redis_) co_return;
  std::vector<std::string> cmd{"PUBLISH", std::string(kDeviceChannel), subject};
  auto r = co_await redis_->command(std::move(cmd));
  // Caches of the device directory also expire on their own, so a lost publish only delays.
  if (!r) log::warn("could not publish device change", {{"reason", r.error().message}});
}

asio::awaitable<Result<pb::CreatePracticeResponse>> IdentityService::create_practice(
    const pb::CreatePracticeRequest& req, const Ctx&) {
  if (operator_digest_.empty() ||
      !crypto::constant_time_equal(crypto::sha256(req.operator_token()), operator_digest_))
    co_return Error{Code::kPermissionDenied, "operator token is not valid", "operator_token"};
  if (auto s = validate_practice_name(req.name(), "name"); !s) co_return s.error();
  if (auto s = validate_slug(req.slug(), "slug"); !s) co_return s.error();
  auto email = normalize_email(req.admin_email(), "admin_email");
  if (!email) co_return email.error();
  if (auto s = validate_password(req.admin_password(), "admin_password"); !s) co_return s.error();
  if (auto s = validate_display_name(req.admin_display_name(), "admin_display_name"); !s) co_return s.error();
  if (auto s = store::validate_idempotency_key(req.idempotency_key(), true); !s) co_return s.error();

  store::IdempotentWrite key{"operator", req.idempotency_key(), request_digest("create_practice", without_password(req))};
  // A retry is answered before its password is hashed (a full scrypt per retry otherwise).
  auto replay = co_await store_.replay_practice(key);
  if (!replay) co_return replay.error();
  std::optional<Made<PracticeAndAdmin>> made = std::move(*replay);
  const auto now = now_unix_ms();
  Practice practice{new_id(), req.name(), req.slug(), now};
  User admin{new_id(), practice.id, *email, req.admin_display_name(), Role::kAdmin, now};
  if (!made) {
    // Named before the co_await (g++ 12 destroys an aggregate temporary in a co_await twice).
    PasswordOwner owner{*email, req.admin_display_name()};
    auto hash = co_await hash_new_password(req.admin_password(), std::move(owner), "admin_password");
    if (!hash) co_return hash.error();
    auto created = co_await store_.create_practice(practice, admin, std::move(*hash), std::move(key));
    if (!created) co_return created.error();
    made = std::move(*created);
  }
  if (!made->replayed)
    log::info("practice created", {{"practice_id", practice.id}, {"admin_id", admin.id}});

  pb::CreatePracticeResponse resp;
  fill(*resp.mutable_practice(), made->value.practice);
  fill(*resp.mutable_admin(), made->value.admin);
  resp.set_replayed(made->replayed);
  co_return resp;
}

asio::awaitable<Result<pb::TokenResponse>> IdentityService::login(const pb::LoginRequest& req,
                                                                  const Ctx& ctx) {
  if (req.practice().empty()) co_return invalid_argument("practice", "practice: is required");
  if (req.email().empty()) co_return invalid_argument("email", "email: is required");
  if (req.password().empty()) co_return invalid_argument("password", "password: is required");
  if (req.password().find('\0') != std::string::npos)
    co_return invalid_argument("password", "password: must not contain NUL characters");
  if (req.password().size() > 1024) co_return invalid_credentials();
  const std::string slug = ascii_lower(req.practice());
  const std::string email = ascii_lower(req.email());
  const std::string account = login_account_key(slug, email);
  const std::string address = ctx.caller.source_address();

  // Locked, or as many attempts in flight as would lock it: the same answer whether
  // the account exists or not, and no password check.
  const auto reservation = co_await throttle_.reserve(account, address);
  if (!reservation) co_return locked_out(reservation.refused_for);

  auto record = co_await store_.find_login(slug, email);
  if (!record) {
    co_await throttle_.release(reservation);
    co_return record.error();
  }
  // No user, or a password made unusable by a reset: the dummy, so the time is the same.
  const bool usable = *record && !(*record)->password_hash.empty();
  std::string hash = usable ? (*record)->password_hash : dummy_hash_;
  // A hash stored at another cost (an older default, or a changed scrypt_log2_n) is
  // replaced on the first login that proves the password, while it is at hand.
  const PasswordCheck check = co_await check_password(req.password(), std::move(hash), usable, address);
  if (!check.ok || !usable) {
    co_await throttle_.record_failure(reservation);
    const std::string known = *record ? (*record)->user.id : std::string();  // the email never goes in
    audit_event(ctx, {.action = "login.failed", .object_type = "user", .object_id = known, .outcome = "denied",
                      .practice_id = *record ? std::string_view((*record)->user.practice_id) : "",
                      .actor_user_id = known});
    co_return invalid_credentials();
  }
  const User user = (*record)->user;
  const bool second_step =
      (*record)->two_factor || ((*record)->staff_two_factor_required && user.role != Role::kClient);
  // With a second step due, its code gives the verdict: a proven password alone does
  // not clear the account's failures, so code guesses cannot be spread over fresh logins.
  if (second_step)
    co_await throttle_.release(reservation);
  else
    co_await throttle_.record_success(reservation);
  // Only someone who knows the password learns the account is deactivated.
  if (!user.active()) {
    audit_event(ctx, {.action = "login.failed", .object_type = "user", .object_id = user.id, .outcome = "denied",
                      .practice_id = user.practice_id, .actor_user_id = user.id});
    co_return make_error(Code::kPermissionDenied, "this account is deactivated; ask your practice's admin");
  }
  if (!check.new_hash.empty()) {
    auto stored = co_await store_.replace_password_hash(user.id, (*record)->password_hash, check.new_hash);
    if (!stored)
      log::warn("could not store the re-hashed password", {{"user_id", user.id}, {"reason", stored.error().message}});
    else if (*stored)
      log::info("password re-hashed at the configured cost",
                {{"user_id", user.id}, {"scrypt_log2_n", options_.scrypt_log2_n}});
  }
  if (second_step) {
    audit_event(ctx, {.action = "login.second_step", .object_type = "user", .object_id = user.id,
                      .practice_id = user.practice_id, .actor_user_id = user.id, .actor_role = role_name(user.role)});
    co_return co_await start_challenge(user, !(*record)->two_factor);
  }
  auto session = co_await start_session(user);
  audit_event(ctx, {.action = session ? "login.ok" : "login.failed", .object_type = "user", .object_id = user.id,
                    .outcome = session ? "ok" : "failed", .practice_id = user.practice_id,
                    .actor_user_id = user.id, .actor_role = role_name(user.role)});
  co_return session;
}

asio::awaitable<Result<pb::ChangePasswordResponse>> IdentityService::change_password(
    const pb::ChangePasswordRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->session_id.empty()) co_return make_error(Code::kUnauthenticated, "sign in first");
  if (req.current_password().empty())
    co_return invalid_argument("current_password", "current_password: is required");
  if (auto s = validate_password(req.new_password(), "new_password"); !s) co_return s.error();
  auto user = co_await store_.find_user(caller->user_id);
  if (!user) co_return user.error();
  auto practice = co_await store_.find_practice(caller->practice_id);
  if (!practice) co_return practice.error();
  if (!*user || !*practice) co_return make_error(Code::kUnauthenticated, "sign in first");
  // Guessing through a stolen session counts like guessing at sign-in.
  const std::string address = ctx.caller.source_address();
  const auto reservation =
      co_await throttle_.reserve(login_account_key((*practice)->slug, (*user)->email), address);
  if (!reservation) co_return locked_out(reservation.refused_for);
  auto record = co_await store_.find_login((*practice)->slug, (*user)->email);
  if (!record || !*record) {
    co_await throttle_.release(reservation);
    co_return record ? make_error(Code::kUnauthenticated, "sign in first") : record.error();
  }
  const std::string old_hash = (*record)->password_hash;
  const PasswordCheck check = co_await check_password(req.current_password(), old_hash, false, address);
  if (!check.ok) {
    co_await throttle_.record_failure(reservation);
    co_return Error{Code::kPermissionDenied, "current_password: is not correct", "current_password"};
  }
  co_await throttle_.record_success(reservation);
  PasswordOwner owner{(*user)->email, (*user)->display_name};  // named: see create_practice
  auto hash = co_await hash_new_password(req.new_password(), std::move(owner), "new_password");
  if (!hash) co_return hash.error();
  const auto now = now_unix_ms();
  auto ended = co_await store_.change_password(caller->user_id, old_hash, std::move(*hash), caller->session_id, now);
  if (!ended) co_return ended.error();
  if (!*ended)
    co_return Error{Code::kFailedPrecondition, "current_password: the password changed meanwhile; try again",
                    "current_password"};
  for (const auto& session_id : **ended) co_await publish_revocation(session_id, now);
  log::info("password changed",
            {{"user_id", caller->user_id}, {"sessions_ended", static_cast<std::int64_t>((*ended)->size())}});
  pb::ChangePasswordResponse resp;
  resp.set_sessions_ended(static_cast<std::int32_t>((*ended)->size()));
  co_return resp;
}

asio::awaitable<IdentityService::PasswordCheck> IdentityService::check_password(std::string password,
                                                                               std::string hash, bool rehash,
                                                                               std::string address) {
  auto verify = [password = std::move(password), hash = std::move(hash), params = scrypt_params(options_.scrypt_log2_n),
                 rehash, checks = &password_checks_]() mutable noexcept {
    crypto::WipeOnExit wipe_password(password);
    checks->fetch_add(1);
    PasswordCheck check;
    check.ok = crypto::verify_password(password, hash);
    if (check.ok && rehash && crypto::password_needs_rehash(hash, params)) {
      try {
        check.new_hash = crypto::hash_password(password, params);
      } catch (const std::exception&) {
        // Keeps the old hash; the next login tries again.
      }
    }
    return check;
  };
  // One source's burst holds at most HashSlots::kPerSource places in the pool's queue.
  auto slot = co_await hash_slots_.acquire(address);
  co_return co_await run_blocking(hash_pool_, std::move(verify));
}

asio::awaitable<Result<pb::TokenResponse>> IdentityService::start_session(const User& user) {
  const auto now = now_unix_ms();
  Session session{new_id(), user.id, user.practice_id, now, now + options_.refresh_token_ttl.count()};
  const std::string refresh = new_refresh_token();
  auto saved =
      co_await store_.create_session(session, refresh_token_digest(refresh), session.expires_unix_ms);
  if (!saved) co_return saved.error();
  log::info("signed in", {{"user_id", user.id}, {"session_id", session.id}});

  pb::TokenResponse resp;
  resp.set_access_token(tokens_.issue_access_token(user, session.id, now));
  resp.set_token_type("Bearer");
  resp.set_expires_in(options_.access_token_ttl.count() / 1000);
  resp.set_refresh_token(refresh);
  fill(*resp.mutable_user(), user);
  co_return resp;
}

asio::awaitable<Result<pb::TokenResponse>> IdentityService::refresh(const pb::RefreshRequest& req,
                                                                    const Ctx&) {
  if (req.refresh_token().empty() || req.refresh_token().size() > 256)
    co_return Error{Code::kUnauthenticated, "refresh token is not valid", "refresh_token"};
  const auto now = now_unix_ms();
  const std::string next = new_refresh_token();
  auto rotation =
      co_await store_.rotate_refresh(refresh_token_digest(req.refresh_token()), refresh_token_digest(next),
                                     now, now + options_.refresh_token_ttl.count());
  if (!rotation) co_return rotation.error();
  if (rotation->outcome == Rotation::Outcome::kReused) {
    log::warn("refresh token reused; session revoked",
              {{"session_id", rotation->session.id}, {"user_id", rotation->session.user_id}});
    co_await publish_revocation(rotation->session.id, now);
    co_return Error{Code::kUnauthenticated, "refresh token was reused; the session has been revoked",
                    "refresh_token"};
  }
  pb::TokenResponse resp;
  resp.set_access_token(tokens_.issue_access_token(rotation->user, rotation->session.id, now));
  resp.set_token_type("Bearer");
  resp.set_expires_in(options_.access_token_ttl.count() / 1000);
  resp.set_refresh_token(next);
  fill(*resp.mutable_user(), rotation->user);
  co_return resp;
}

asio::awaitable<Result<pb::LogoutResponse>> IdentityService::logout(const pb::LogoutRequest&,
                                                                    const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->session_id.empty()) co_return make_error(Code::kUnauthenticated, "sign in first");
  const auto now = now_unix_ms();
  auto revoked = co_await store_.revoke_session(caller->session_id, caller->user_id, "logout", now);
  if (!revoked) co_return revoked.error();
  if (*revoked) {
    log::info("signed out", {{"user_id", caller->user_id}, {"session_id", caller->session_id}});
    co_await publish_revocation(caller->session_id, now);
  }
  co_return pb::LogoutResponse{};
}

asio::awaitable<Result<pb::GetMeResponse>> IdentityService::get_me(const pb::GetMeRequest&, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  pb::GetMeResponse resp;
  const auto writes = store_.writes();  // before the read: see MeCache
  if (const auto* me = me_cache_.find(caller->user_id, writes); me && me->first.practice_id == caller->practice_id) {
    fill(*resp.mutable_user(), me->first);
    fill(*resp.mutable_practice(), me->second);
    co_return resp;
  }
  auto me = co_await store_.find_user_in_practice(caller->user_id, caller->practice_id);
  if (!me) co_return me.error();
  if (!*me) co_return not_found("", "user not found");
  fill(*resp.mutable_user(), (*me)->first);
  fill(*resp.mutable_practice(), (*me)->second);
  me_cache_.put(writes, std::move(**me));
  co_return resp;
}

asio::awaitable<Result<pb::CreateUserResponse>> IdentityService::create_user(const pb::CreateUserRequest& req,
                                                                             const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin)
    co_return make_error(Code::kPermissionDenied, "only an admin can add users");
  auto email = normalize_email(req.email(), "email");
  if (!email) co_return email.error();
  if (auto s = validate_password(req.password(), "password"); !s) co_return s.error();
  if (auto s = validate_display_name(req.display_name(), "display_name"); !s) co_return s.error();
  auto role = parse_role_field(req.role(), "role");
  if (!role) co_return role.error();
  if (auto s = store::validate_idempotency_key(req.idempotency_key(), true); !s) co_return s.error();

  store::IdempotentWrite key{caller->user_id, req.idempotency_key(), request_digest("create_user", without_password(req))};
  auto replay = co_await store_.replay_user(key);  // before hashing: see create_practice
  if (!replay) co_return replay.error();
  std::optional<Made<User>> made = std::move(*replay);
  User user{new_id(), caller->practice_id, *email, req.display_name(), *role, now_unix_ms()};
  if (!made) {
    PasswordOwner owner{*email, req.display_name()};  // named: see create_practice
    auto hash = co_await hash_new_password(req.password(), std::move(owner), "password");
    if (!hash) co_return hash.error();
    auto created = co_await store_.create_user(user, std::move(*hash), std::move(key));
    if (!created) co_return created.error();
    made = std::move(*created);
  }
  if (!made->replayed)
    log::info("user created", {{"user_id", user.id}, {"role", role_name(user.role)}, {"by", caller->user_id}});
  pb::CreateUserResponse resp;
  fill(*resp.mutable_user(), made->value);
  resp.set_replayed(made->replayed);
  co_return resp;
}

asio::awaitable<Result<pb::ListUsersResponse>> IdentityService::list_users(const pb::ListUsersRequest& req,
                                                                           const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin && caller->role != Role::kFrontDesk)
    co_return make_error(Code::kPermissionDenied, "only an admin or the front desk can list users");
  std::optional<Role> filter;
  if (!req.role().empty()) {
    auto role = parse_role_field(req.role(), "role");
    if (!role) co_return role.error();
    filter = *role;
  }
  auto users = co_await store_.list_users(caller->practice_id, filter);
  if (!users) co_return users.error();
  pb::ListUsersResponse resp;
  for (const auto& u : *users) fill(*resp.add_users(), u);
  co_return resp;
}

asio::awaitable<Result<pb::SearchClientsResponse>> IdentityService::search_clients(
    const pb::SearchClientsRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role == Role::kClient) co_return make_error(Code::kPermissionDenied, "clients cannot search clients");
  if (req.practice_id() != caller->practice_id) co_return not_found("practice_id", "practice_id: no such practice");
  auto search = parse_client_search(req.q(), req.limit(), req.cursor());
  if (!search) co_return search.error();
  const int limit = search->limit;
  std::optional<std::string> care_team_of;
  if (caller->role == Role::kTherapist) care_team_of = caller->user_id;
  auto found = co_await store_.search_clients(caller->practice_id, std::move(care_team_of), std::move(*search));
  if (!found) co_return found.error();
  pb::SearchClientsResponse resp;
  const bool more = found->size() > static_cast<std::size_t>(limit);
  if (more) found->resize(static_cast<std::size_t>(limit));
  for (const auto& u : *found) fill(*resp.add_clients(), u);
  if (more) resp.set_next_cursor(found->back().id);
  co_return resp;
}

asio::awaitable<Result<pb::SetTimeZoneResponse>> IdentityService::set_time_zone(const pb::SetTimeZoneRequest& req,
                                                                                const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = validate_time_zone(req.time_zone(), "time_zone"); !s) co_return s.error();
  auto target = co_await named_user(store_, *caller, req.user_id());
  if (!target) co_return target.error();
  if (!may_set_time_zone(caller->user_id, caller->practice_id, *caller->role, *target)) co_return no_such_user();
  auto saved = co_await store_.set_time_zone(target->id, req.time_zone());
  if (!saved) co_return saved.error();
  if (!*saved) co_return no_such_user();
  log::info("time zone set", {{"user_id", target->id}, {"by", caller->user_id}});
  pb::SetTimeZoneResponse resp;
  fill(*resp.mutable_user(), **saved);
  co_return resp;
}

asio::awaitable<Result<pb::AddCareTeamMemberResponse>> IdentityService::add_care_team_member(
    const pb::AddCareTeamMemberRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin)
    co_return audit_refusal(ctx, make_error(Code::kPermissionDenied, "only an admin can change care teams"),
                            "care_team", req.client_id());
  if (req.client_id().empty()) co_return invalid_argument("client_id", "client_id: is required");
  if (req.therapist_id().empty()) co_return invalid_argument("therapist_id", "therapist_id: is required");
  if (auto s = store::validate_idempotency_key(req.idempotency_key(), true); !s) co_return s.error();
  CareTeamLink link{req.client_id(), req.therapist_id(), now_unix_ms()};
  store::IdempotentWrite key{caller->user_id, req.idempotency_key(), request_digest("add_care_team_member", req)};
  auto made = co_await store_.add_care_team_link(caller->practice_id, link, std::move(key));
  if (!made) co_return made.error();
  audit_event(ctx, {.action = "care_team.added", .object_type = "care_team", .object_id = link.therapist_id,
                    .subject_user_id = link.client_id});
  if (!made->replayed)
    log::info("care team link added",
              {{"client_id", link.client_id}, {"therapist_id", link.therapist_id}, {"by", caller->user_id}});
  pb::AddCareTeamMemberResponse resp;
  fill(*resp.mutable_link(), made->value);
  resp.set_replayed(made->replayed);
  co_return resp;
}

asio::awaitable<Result<pb::ListCareTeamResponse>> IdentityService::list_care_team(
    const pb::ListCareTeamRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  const Error hidden = not_found("client_id", "client_id: no such client");
  std::string client_id = req.client_id();
  if (caller->role == Role::kClient) {
    if (client_id.empty()) client_id = caller->user_id;
    if (client_id != caller->user_id) co_return hidden;
  } else if (client_id.empty()) {
    co_return invalid_argument("client_id", "client_id: is required");
  }
  if (caller->role != Role::kClient) {
    // Staff may only see clients of their own practice.
    auto client = co_await store_.find_user(client_id);
    if (!client) co_return client.error();
    if (!*client || (*client)->practice_id != caller->practice_id || (*client)->role != Role::kClient)
      co_return hidden;
  }
  auto links = co_await store_.list_care_team(client_id);
  if (!links) co_return links.error();
  audit_event(ctx, {.action = "care_team.read", .object_type = "care_team", .object_id = client_id,
                    .subject_user_id = client_id});
  if (caller->role == Role::kTherapist) {
    bool mine = std::any_of(links->begin(), links->end(),
                            [&](const CareTeamLink& l) { return l.therapist_id == caller->user_id; });
    if (!mine) co_return hidden;
  }
  pb::ListCareTeamResponse resp;
  for (const auto& l : *links) fill(*resp.add_links(), l);
  co_return resp;
}

asio::awaitable<Result<pb::DeviceResponse>> IdentityService::register_device(
    const pb::RegisterDeviceRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->session_id.empty()) co_return make_error(Code::kUnauthenticated, "sign in first");
  if (auto s = validate_device_name(req.name(), "name"); !s) co_return s.error();
  if (auto s = validate_device_keys(req.signing_public_key(), req.agreement_public_key(),
                                    req.agreement_key_signature());
      !s)
    co_return s.error();

  const auto now = now_unix_ms();
  Device device{new_id(),
                caller->user_id,
                caller->practice_id,
                caller->session_id,
                req.name(),
                req.signing_public_key(),
                req.agreement_public_key(),
                req.agreement_key_signature(),
                now,
                std::nullopt};
  auto saved = co_await store_.register_device(std::move(device), now);
  if (!saved) co_return saved.error();
  if (saved->created) {
    audit_event(ctx, {.action = "device.register", .object_type = "device", .object_id = saved->device.id,
                      .subject_user_id = caller->user_id});
    log::info("device registered", {{"device_id", saved->device.id},
                                    {"user_id", caller->user_id},
                                    {"session_id", caller->session_id}});
    co_await publish_device_change(caller->user_id);
  }
  pb::DeviceResponse resp;
  fill(*resp.mutable_device(), saved->device, /*current=*/true);
  co_return resp;
}

asio::awaitable<Result<pb::ListDevicesResponse>> IdentityService::list_devices(const pb::ListDevicesRequest&,
                                                                               const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto devices = co_await store_.list_devices(caller->user_id, now_unix_ms());
  if (!devices) co_return devices.error();
  pb::ListDevicesResponse resp;
  for (const auto& d : *devices) {
    const bool current = !caller->session_id.empty() && d.session_id == caller->session_id;
    auto& out = *resp.add_devices();
    fill(out, d, current);
    // The identity key sealed for this device is for this device alone.
    if (current) out.set_identity_key_box(d.identity_key_box);
  }
  co_return resp;
}

asio::awaitable<Result<pb::DeviceResponse>> IdentityService::revoke_device(const pb::RevokeDeviceRequest& req,
                                                                           const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (req.device_id().empty()) co_return invalid_argument("device_id", "device_id: is required");
  if (req.device_id().size() > 64) co_return not_found("device_id", "device_id: no such device");
  DeviceRevoker by{caller->user_id, caller->practice_id, caller->role == Role::kAdmin};
  const auto now = now_unix_ms();
  auto revoked = co_await store_.revoke_device(req.device_id(), std::move(by), now);
  if (!revoked) co_return audit_refusal(ctx, revoked.error(), "device", req.device_id());
  audit_event(ctx, {.action = "device.revoke", .object_type = "device", .object_id = revoked->device.id,
                    .subject_user_id = revoked->device.user_id});
  if (revoked->session_revoked) {
    log::info("device revoked", {{"device_id", revoked->device.id},
                                 {"user_id", revoked->device.user_id},
                                 {"session_id", revoked->device.session_id},
                                 {"by", caller->user_id}});
    // The same path as a logout: gateways close the session's sockets.
    co_await publish_revocation(revoked->device.session_id, now);
  }
  pb::DeviceResponse resp;
  fill(*resp.mutable_device(), revoked->device,
       !caller->session_id.empty() && revoked->device.session_id == caller->session_id);
  co_return resp;
}

asio::awaitable<Result<pb::IdentityKeyResponse>> IdentityService::set_identity_key(
    const pb::SetIdentityKeyRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->session_id.empty()) co_return make_error(Code::kUnauthenticated, "sign in first");
  if (auto s = validate_public_key(req.public_key(), "public_key"); !s) co_return s.error();
  const auto now = now_unix_ms();
  auto trust = co_await store_.find_device_trust(caller->user_id, caller->session_id, "", now);
  if (!trust) co_return trust.error();
  if (auto s = check_own_device(caller->user_id, trust->own); !s) co_return s.error();
  CertificateSignature certificate{req.certificate_signature(), req.certificate_issued_unix_ms()};
  if (auto s = validate_device_certificate(req.public_key(), *trust->own, certificate); !s) co_return s.error();
  // Named before the co_await (g++ 12 destroys an aggregate temporary in a co_await twice).
  IdentityKey key{caller->user_id, req.public_key(), now};
  auto saved = co_await store_.set_identity_key(std::move(key), caller->session_id, trust->own->id,
                                                std::move(certificate), req.reset(), now);
  if (!saved) co_return saved.error();
  log::info(saved->change == IdentityKeyChange::kFirst  ? "identity key set"
            : saved->change == IdentityKeyChange::kSame ? "identity key confirmed"
                                                        : "identity key replaced",
            {{"user_id", caller->user_id}, {"device_id", saved->device.id}});
  // The user's recipients changed (this device now counts; after a reset, only it does).
  co_await publish_device_change(caller->user_id);
  pb::IdentityKeyResponse resp;
  fill(*resp.mutable_identity_key(), saved->key);
  fill(*resp.mutable_device(), saved->device, /*current=*/true);
  co_return resp;
}

asio::awaitable<Result<pb::DeviceResponse>> IdentityService::approve_device(const pb::ApproveDeviceRequest& req,
                                                                            const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->session_id.empty()) co_return make_error(Code::kUnauthenticated, "sign in first");
  if (req.device_id().empty()) co_return invalid_argument("device_id", "device_id: is required");
  if (req.device_id().size() > 64) co_return not_found("device_id", "device_id: no such device");
  if (req.identity_key_box().size() > kMaxIdentityKeyBox)
    co_return invalid_argument("identity_key_box",
                               "identity_key_box: must be at most " + std::to_string(kMaxIdentityKeyBox) + " bytes");
  const auto now = now_unix_ms();
  auto trust = co_await store_.find_device_trust(caller->user_id, caller->session_id, req.device_id(), now);
  if (!trust) co_return trust.error();
  if (auto s = check_approval(caller->user_id, trust->own, trust->target, trust->identity_key); !s)
    co_return audit_refusal(ctx, s.error(), "device", req.device_id());
  CertificateSignature certificate{req.certificate_signature(), req.certificate_issued_unix_ms()};
  if (auto s = validate_device_certificate(trust->identity_key->public_key, *trust->target, certificate); !s)
    co_return s.error();
  DeviceApproval approval{caller->user_id,  caller->session_id,    req.device_id(), trust->identity_key->public_key,
                          std::move(certificate), req.identity_key_box()};
  auto approved = co_await store_.approve_device(std::move(approval), now);
  if (!approved) co_return approved.error();
  audit_event(ctx, {.action = "device.approve", .object_type = "device", .object_id = approved->id,
                    .subject_user_id = caller->user_id});
  log::info("device approved",
            {{"device_id", approved->id}, {"user_id", caller->user_id}, {"by_device_id", trust->own->id}});
  co_await publish_device_change(caller->user_id);
  pb::DeviceResponse resp;
  fill(*resp.mutable_device(), *approved, /*current=*/false);
  co_return resp;
}

asio::awaitable<Result<pb::IdentityKeyResponse>> IdentityService::get_identity_key(
    const pb::GetIdentityKeyRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto target = co_await named_user(store_, *caller, req.user_id());
  if (!target) co_return target.error();
  const User& user = *target;
  bool linked = false;
  if (user.practice_id == caller->practice_id) {
    const bool client_asks = caller->role == Role::kClient && user.role == Role::kTherapist;
    const bool therapist_asks = caller->role == Role::kTherapist && user.role == Role::kClient;
    if (client_asks || therapist_asks) {
      auto member = co_await on_care_team(client_asks ? caller->user_id : user.id,
                                          client_asks ? user.id : caller->user_id);
      if (!member) co_return member.error();
      linked = *member;
    }
  }
  if (!may_see_user(caller->user_id, caller->practice_id, *caller->role, user, linked)) co_return no_such_user();
  auto key = co_await store_.find_identity_key(user.id);
  if (!key) co_return key.error();
  pb::IdentityKeyResponse resp;
  if (*key) fill(*resp.mutable_identity_key(), **key);
  co_return resp;
}

asio::awaitable<Result<pb::ArchiveKeyResponse>> IdentityService::set_archive_key(
    const pb::SetArchiveKeyRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin)
    co_return make_error(Code::kPermissionDenied, "only an admin can set the archive key");
  if (auto s = validate_archive_key(req.agreement_public_key()); !s) co_return s.error();
  ArchiveKey wanted{caller->practice_id,        req.agreement_public_key(),   now_unix_ms(),
                    req.practice_public_key(),  req.archive_key_signature(), req.issued_unix_ms()};
  if (auto s = validate_archive_key_signature(wanted); !s) co_return s.error();
  auto key = co_await store_.set_archive_key(std::move(wanted));
  if (!key) co_return key.error();
  log::info(*key ? "archive key set" : "archive key removed",
            {{"practice_id", caller->practice_id},
             {"signed", *key && !(*key)->practice_public_key.empty()},
             {"by", caller->user_id}});
  co_await publish_device_change("practice:" + caller->practice_id);
  co_return archive_key_response(*key);
}

asio::awaitable<Result<pb::ArchiveKeyResponse>> IdentityService::get_archive_key(
    const pb::GetArchiveKeyRequest&, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto key = co_await store_.find_archive_key(caller->practice_id);
  if (!key) co_return key.error();
  co_return archive_key_response(*key);
}

asio::awaitable<Result<pb::ListActiveDevicesResponse>> IdentityService::list_active_devices(
    const pb::ListActiveDevicesRequest& req, const Ctx& ctx) {
  if (auto s = require_internal(ctx); !s) co_return s.error();
  if (req.practice_id().empty()) co_return invalid_argument("practice_id", "practice_id: is required");
  if (req.user_ids_size() > 100) co_return invalid_argument("user_ids", "user_ids: at most 100");
  std::vector<std::string> user_ids(req.user_ids().begin(), req.user_ids().end());
  auto found = co_await store_.list_active_devices(req.practice_id(), std::move(user_ids), req.session_id(),
                                                   now_unix_ms(), req.include_inactive());
  if (!found) co_return found.error();
  pb::ListActiveDevicesResponse resp;
  for (const auto& d : found->devices) fill(*resp.add_devices(), d, /*current=*/false);
  if (found->archive_key) fill(*resp.mutable_archive_key(), *found->archive_key);
  resp.set_session_device_id(found->session_device_id);
  for (const auto& k : found->identity_keys) fill(*resp.add_identity_keys(), k);
  co_return resp;
}

asio::awaitable<Result<pb::GetVerificationKeysResponse>> IdentityService::get_verification_keys(
    const pb::GetVerificationKeysRequest&, const Ctx& ctx) {
  if (auto s = require_internal(ctx); !s) co_return s.error();
  pb::GetVerificationKeysResponse resp;
  auto* key = resp.add_keys();
  key->set_kid(tokens_.kid());
  key->set_ed25519_public_key(tokens_.public_key_raw());
  resp.set_issuer(options_.token_issuer);
  co_return resp;
}

asio::awaitable<Result<pb::ListRevokedSessionsResponse>> IdentityService::list_revoked_sessions(
    const pb::ListRevokedSessionsRequest&, const Ctx& ctx) {
  if (auto s = require_internal(ctx); !s) co_return s.error();
  // Older revocations no longer matter: every access token of theirs has expired.
  auto ids = co_await store_.revoked_since(now_unix_ms() - options_.access_token_ttl.count());
  if (!ids) co_return ids.error();
  pb::ListRevokedSessionsResponse resp;
  for (auto& id : *ids) resp.add_session_ids(std::move(id));
  co_return resp;
}

asio::awaitable<Result<pb::LookupUsersResponse>> IdentityService::lookup_users(const pb::LookupUsersRequest& req,
                                                                               const Ctx& ctx) {
  if (auto s = require_internal(ctx); !s) co_return s.error();
  if (req.user_ids_size() > 100) co_return invalid_argument("user_ids", "user_ids: at most 100");
  std::vector<std::string> ids(req.user_ids().begin(), req.user_ids().end());
  auto found = co_await store_.lookup_users(std::move(ids));
  if (!found) co_return found.error();
  pb::LookupUsersResponse resp;
  for (const auto& u : found->users) {
    auto* out = resp.add_users();
    out->set_id(u.id);
    out->set_practice_id(u.practice_id);
    out->set_role(std::string(role_name(u.role)));
    out->set_display_name(u.display_name);
    out->set_time_zone(u.time_zone);
    out->set_deactivated(!u.active());
  }
  for (const auto& p : found->practices) fill(*resp.add_practices(), p);
  co_return resp;
}

asio::awaitable<Result<pb::CheckCareTeamResponse>> IdentityService::check_care_team(
    const pb::CheckCareTeamRequest& req, const Ctx& ctx) {
  if (auto s = require_internal(ctx); !s) co_return s.error();
  if (req.client_id().empty()) co_return invalid_argument("client_id", "client_id: is required");
  if (req.therapist_id().empty()) co_return invalid_argument("therapist_id", "therapist_id: is required");
  auto member = co_await on_care_team(req.client_id(), req.therapist_id());
  if (!member) co_return member.error();
  pb::CheckCareTeamResponse resp;
  resp.set_member(*member);
  co_return resp;
}

asio::awaitable<Result<bool>> IdentityService::on_care_team(std::string client_id, std::string therapist_id) {
  auto links = co_await store_.list_care_team(std::move(client_id));
  if (!links) co_return links.error();
  co_return std::any_of(links->begin(), links->end(),
                        [&](const CareTeamLink& l) { return l.therapist_id == therapist_id; });
}

}  // namespace alliance::identity
