// IdentityService's handlers for two-factor sign-in: the second step of a login, the
// enrolment a practice may require of staff at sign-in, and a signed-in user's own
// enrolment, confirmation, status and disabling. Every code or password checked here
// counts toward the login back-off like a password at sign-in. Secrets and codes are
// never logged.
#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/crypto/totp.hpp"
#include "alliance/crypto/wipe.hpp"
#include "handler_common.hpp"
#include "identity_service.hpp"
#include "qr_text.hpp"

namespace alliance::identity {
namespace {

constexpr std::size_t kMaxCodeSize = 64;

Error code_wrong(Code code) {
  return Error{code, "code: is not correct, or was already used", "code"};
}

Result<std::string> challenge_digest(const std::string& challenge) {
  if (challenge.empty() || challenge.size() > 256)
    return Error{Code::kUnauthenticated, "challenge: is not valid; sign in with your password again", "challenge"};
  return refresh_token_digest(challenge);
}

Status check_code_field(const std::string& code) {
  if (code.empty()) return invalid_argument("code", "code: is required");
  if (code.size() > kMaxCodeSize) return invalid_argument("code", "code: is too long");
  return {};
}

bool staff(Role role) { return role != Role::kClient; }

// The signed-in caller as stored, with their practice: who a code or password is checked for.
struct Account {
  User user;
  Practice practice;
  std::string key() const { return login_account_key(practice.slug, user.email); }
};

asio::awaitable<Result<Account>> signed_in_account(IdentityStore& store, const net::CallContext& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto user = co_await store.find_user(caller->user_id);
  if (!user) co_return user.error();
  auto practice = co_await store.find_practice(caller->practice_id);
  if (!practice) co_return practice.error();
  if (!*user || !*practice) co_return make_error(Code::kUnauthenticated, "sign in first");
  co_return Account{std::move(**user), std::move(**practice)};
}

asio::awaitable<Result<pb::TwoFactorStatus>> status_of(IdentityStore& store, const Account& account) {
  auto record = co_await store.find_two_factor(account.user.id);
  if (!record) co_return record.error();
  pb::TwoFactorStatus s;
  if (*record) {
    s.set_enabled((*record)->enabled_unix_ms.has_value());
    s.set_enabled_unix_ms((*record)->enabled_unix_ms.value_or(0));
    s.set_pending(!(*record)->enabled_unix_ms.has_value());
    if (s.enabled()) s.set_recovery_codes_left((*record)->recovery_codes_left);
  }
  s.set_required(account.practice.require_two_factor_for_staff && staff(account.user.role));
  co_return s;
}


}  // namespace

template <class Check>
asio::awaitable<Result<bool>> IdentityService::throttled(const std::string& account, const std::string& address,
                                                          Check check) {
  const auto reservation = co_await throttle_.reserve(account, address);
  if (!reservation) co_return locked_out(reservation.refused_for);
  Result<bool> right = co_await check();
  if (!right)
    co_await throttle_.release(reservation);
  else if (*right)
    co_await throttle_.record_success(reservation);
  else
    co_await throttle_.record_failure(reservation);
  co_return right;
}

asio::awaitable<Result<pb::TokenResponse>> IdentityService::start_challenge(const User& user, bool enrolment) {
  const auto now = now_unix_ms();
  const std::string challenge = new_refresh_token();
  const auto expires = now + kChallengeTtlMs;
  auto saved = co_await store_.create_challenge(refresh_token_digest(challenge), user.id, enrolment, now, expires);
  if (!saved) co_return saved.error();
  log::info("password proven; second step due", {{"user_id", user.id}, {"enrolment_required", enrolment}});
  pb::TokenResponse resp;
  auto* c = resp.mutable_two_factor();
  c->set_challenge(challenge);
  c->set_expires_unix_ms(expires);
  c->set_enrolment_required(enrolment);
  fill(*resp.mutable_user(), user);
  co_return resp;
}

asio::awaitable<Result<bool>> IdentityService::use_code(const std::string& user_id, const std::string& code,
                                                        bool pending, std::vector<std::string>* recovery_codes) {
  const TypedCode typed = parse_typed_code(code);
  if (typed.kind == TypedCode::Kind::kNeither) co_return false;
  auto record = co_await store_.find_two_factor(user_id);
  if (!record) co_return record.error();
  if (!*record || (*record)->enabled_unix_ms.has_value() == pending) co_return false;
  const auto now = now_unix_ms();
  if (typed.kind == TypedCode::Kind::kRecovery) {
    if (pending) co_return false;  // no recovery codes before the enrolment is confirmed
    co_return co_await store_.use_recovery_code(user_id, recovery_code_digest(typed.value), now);
  }
  auto secret = two_factor_seal_.open(user_id, (*record)->sealed_secret);
  if (!secret) {
    log::error("two-factor secret unreadable", {{"user_id", user_id}, {"reason", secret.error().message}});
    co_return secret.error();
  }
  crypto::WipeOnExit wipe(*secret);
  const auto step = crypto::totp_check(*secret, typed.value, now / 1000, (*record)->last_step);
  if (!step) co_return false;
  if (!pending) co_return co_await store_.claim_totp_step(user_id, *step);
  std::vector<std::string> codes = new_recovery_codes();
  std::vector<std::string> hashes;
  for (const auto& c : codes) hashes.push_back(recovery_code_digest(parse_typed_code(c).value));
  auto enabled = co_await store_.enable_two_factor(user_id, *step, std::move(hashes), now);
  if (!enabled) co_return enabled.error();
  if (*enabled && recovery_codes) *recovery_codes = std::move(codes);
  co_return *enabled;
}

asio::awaitable<Result<pb::TwoFactorEnrolmentResponse>> IdentityService::enrol(const User& user,
                                                                                const std::string& issuer) {
  std::string secret = crypto::totp_secret();
  crypto::WipeOnExit wipe(secret);
  auto sealed = two_factor_seal_.seal(user.id, secret);
  if (!sealed) co_return sealed.error();
  auto started = co_await store_.start_two_factor(user.id, std::move(*sealed), now_unix_ms());
  if (!started) co_return started.error();
  pb::TwoFactorEnrolmentResponse resp;
  auto* e = resp.mutable_enrolment();
  e->set_otpauth_uri(crypto::otpauth_uri(issuer, user.email, secret));
  e->set_secret_base32(crypto::base32(secret));
  auto qr = qr_text(e->otpauth_uri(), "otpauth_uri");
  if (!qr) co_return qr.error();
  e->set_qr_text(std::move(*qr));
  log::info("two-factor enrolment started", {{"user_id", user.id}});
  co_return resp;
}

asio::awaitable<Result<pb::TokenResponse>> IdentityService::complete_two_factor(const pb::CompleteTwoFactorRequest& req,
                                                                                const Ctx& ctx) {
  auto digest = challenge_digest(req.challenge());
  if (!digest) co_return digest.error();
  if (auto s = check_code_field(req.code()); !s) co_return s.error();
  auto open = co_await store_.find_challenge(*digest, now_unix_ms());
  if (!open) co_return open.error();
  const User& user = open->user;
  std::vector<std::string> recovery_codes;
  auto check = [&]() { return use_code(user.id, req.code(), open->enrolment, &recovery_codes); };
  auto right = co_await throttled(login_account_key(open->practice_slug, user.email), ctx.caller.source_address(),
                                  check);
  if (!right) co_return right.error();
  if (!*right) {
    log::info("second step refused", {{"user_id", user.id}});
    audit_event(ctx, {.action = "login.failed", .object_type = "user", .object_id = user.id, .outcome = "denied",
                      .practice_id = user.practice_id, .actor_user_id = user.id});
    co_return code_wrong(Code::kUnauthenticated);
  }
  auto used = co_await store_.use_challenge(*digest, now_unix_ms());
  if (!used) co_return used.error();
  if (!*used) co_return Error{Code::kUnauthenticated, "challenge: was used meanwhile; sign in again", "challenge"};
  auto tokens = co_await start_session(user);
  if (!tokens) co_return tokens.error();
  audit_event(ctx, {.action = "login.ok", .object_type = "user", .object_id = user.id,
                    .practice_id = user.practice_id, .actor_user_id = user.id, .actor_role = role_name(user.role)});
  for (auto& c : recovery_codes) tokens->add_recovery_codes(std::move(c));
  co_return tokens;
}

asio::awaitable<Result<pb::TwoFactorEnrolmentResponse>> IdentityService::enrol_with_challenge(
    const pb::EnrolWithChallengeRequest& req, const Ctx&) {
  auto digest = challenge_digest(req.challenge());
  if (!digest) co_return digest.error();
  auto open = co_await store_.find_challenge(*digest, now_unix_ms());
  if (!open) co_return open.error();
  if (!open->enrolment)
    co_return Error{Code::kFailedPrecondition,
                    "challenge: this sign-in needs a code from your authenticator app, not an enrolment", "challenge"};
  co_return co_await enrol(open->user, open->practice_name);
}

asio::awaitable<Result<pb::TwoFactorEnrolmentResponse>> IdentityService::start_two_factor_enrolment(
    const pb::StartTwoFactorEnrolmentRequest&, const Ctx& ctx) {
  auto account = co_await signed_in_account(store_, ctx);
  if (!account) co_return account.error();
  co_return co_await enrol(account->user, account->practice.name);
}


asio::awaitable<Result<pb::ConfirmTwoFactorResponse>> IdentityService::confirm_two_factor(
    const pb::ConfirmTwoFactorRequest& req, const Ctx& ctx) {
  if (auto s = check_code_field(req.code()); !s) co_return s.error();
  auto account = co_await signed_in_account(store_, ctx);
  if (!account) co_return account.error();
  auto pending = co_await store_.find_two_factor(account->user.id);
  if (!pending) co_return pending.error();
  if (!*pending || (*pending)->enabled_unix_ms)
    co_return make_error(Code::kFailedPrecondition,
                         *pending ? "two-factor sign-in is already on" : "no enrolment to confirm; start one first");
  pb::ConfirmTwoFactorResponse resp;
  std::vector<std::string> codes;
  auto check = [&]() { return use_code(account->user.id, req.code(), /*pending=*/true, &codes); };
  auto right = co_await throttled(account->key(), ctx.caller.source_address(), check);
  if (!right) co_return right.error();
  if (!*right) co_return code_wrong(Code::kPermissionDenied);
  log::info("two-factor sign-in turned on", {{"user_id", account->user.id}});
  for (auto& c : codes) resp.add_recovery_codes(std::move(c));
  auto status = co_await status_of(store_, *account);
  if (!status) co_return status.error();
  *resp.mutable_status() = std::move(*status);
  co_return resp;
}

asio::awaitable<Result<pb::TwoFactorStatusResponse>> IdentityService::disable_two_factor(
    const pb::DisableTwoFactorRequest& req, const Ctx& ctx) {
  if (req.code().empty() && req.password().empty())
    co_return invalid_argument("code", "code: give a current code (or a recovery code) or your password");
  if (!req.code().empty()) {
    if (auto s = check_code_field(req.code()); !s) co_return s.error();
  }
  if (req.password().size() > 1024 || req.password().find('\0') != std::string::npos)
    co_return Error{Code::kPermissionDenied, "password: is not correct", "password"};
  auto account = co_await signed_in_account(store_, ctx);
  if (!account) co_return account.error();
  if (account->practice.require_two_factor_for_staff && staff(account->user.role))
    co_return make_error(Code::kFailedPrecondition,
                         "the practice requires two-factor sign-in for staff; an admin can reset it for a lost device");
  auto record = co_await store_.find_two_factor(account->user.id);
  if (!record) co_return record.error();
  if (!*record || !(*record)->enabled_unix_ms) co_return make_error(Code::kFailedPrecondition, "two-factor sign-in is not on");
  const std::string address = ctx.caller.source_address();
  auto check = [&]() -> asio::awaitable<Result<bool>> {
    if (!req.code().empty()) co_return co_await use_code(account->user.id, req.code(), false, nullptr);
    auto login = co_await store_.find_login(account->practice.slug, account->user.email);
    if (!login) co_return login.error();
    if (!*login || (*login)->password_hash.empty()) co_return false;
    const PasswordCheck checked = co_await check_password(req.password(), (*login)->password_hash, false, address);
    co_return checked.ok;
  };
  auto right = co_await throttled(account->key(), address, check);
  if (!right) co_return right.error();
  if (!*right)
    co_return req.code().empty() ? Error{Code::kPermissionDenied, "password: is not correct", "password"}
                                 : code_wrong(Code::kPermissionDenied);
  auto removed = co_await store_.disable_two_factor(account->user.id, now_unix_ms());
  if (!removed) co_return removed.error();
  log::info("two-factor sign-in turned off", {{"user_id", account->user.id}});
  auto status = co_await status_of(store_, *account);
  if (!status) co_return status.error();
  pb::TwoFactorStatusResponse resp;
  *resp.mutable_status() = std::move(*status);
  co_return resp;
}

asio::awaitable<Result<pb::TwoFactorStatusResponse>> IdentityService::get_two_factor_status(
    const pb::GetTwoFactorStatusRequest&, const Ctx& ctx) {
  auto account = co_await signed_in_account(store_, ctx);
  if (!account) co_return account.error();
  auto status = co_await status_of(store_, *account);
  if (!status) co_return status.error();
  pb::TwoFactorStatusResponse resp;
  *resp.mutable_status() = std::move(*status);
  co_return resp;
}

}  // namespace alliance::identity
