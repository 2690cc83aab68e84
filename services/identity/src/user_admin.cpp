// IdentityService's handlers for people who join, change and leave a practice: an
// admin's changes to a user of their practice and to the practice's policies, and the
// password reset a user redeems.
#include "alliance/audit/audit_sender.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "handler_common.hpp"
#include "identity_service.hpp"

namespace alliance::identity {
namespace {

// The admin's edit of `user_id` in their own practice; permission first, then the id.
Result<AccountEdit> admin_edit(const net::CallContext& ctx, AccountEdit::Kind kind, const std::string& user_id) {
  auto caller = require_user(ctx);
  if (!caller) return caller.error();
  if (caller->role != Role::kAdmin) return make_error(Code::kPermissionDenied, "only an admin can change users");
  if (user_id.empty()) return invalid_argument("user_id", "user_id: is required");
  if (user_id.size() > 64) return no_such_user();
  AccountEdit edit;
  edit.kind = kind;
  edit.practice_id = caller->practice_id;
  edit.user_id = user_id;
  return edit;
}

pb::UserResponse user_response(const AccountChange& change) {
  pb::UserResponse resp;
  fill(*resp.mutable_user(), change.user);
  resp.set_sessions_ended(static_cast<std::int32_t>(change.ended_sessions.size()));
  return resp;
}

std::string_view account_action(AccountEdit::Kind kind) {
  switch (kind) {
    case AccountEdit::Kind::kDeactivate:
      return "user.deactivated";
    case AccountEdit::Kind::kReactivate:
      return "user.reactivated";
    case AccountEdit::Kind::kSetRole:
      return "user.role_changed";
    case AccountEdit::Kind::kStartReset:
      return "user.password_reset_started";
    case AccountEdit::Kind::kResetTwoFactor:
      return "user.two_factor_reset";
    case AccountEdit::Kind::kUpdate:
      break;
  }
  return "user.updated";
}

Error reset_token_invalid() {
  return Error{Code::kUnauthenticated, "reset_token: is not valid", "reset_token"};
}

}  // namespace

asio::awaitable<Result<AccountChange>> IdentityService::edit_account(AccountEdit edit, const Ctx& ctx,
                                                                     std::string_view done) {
  const auto now = now_unix_ms();
  const std::string user_id = edit.user_id;
  const std::string_view action = account_action(edit.kind);
  auto change = co_await store_.edit_account(std::move(edit), now);
  audit_event(ctx, {.action = action, .object_type = "user", .object_id = user_id, .subject_user_id = user_id,
                    .outcome = change ? "ok" : audit::outcome_of(change.error())});
  if (!change) co_return change.error();
  const std::string& by = ctx.caller.user_id();
  // The same path as a logout: gateways refuse the sessions' tokens and close their sockets.
  for (const auto& session_id : change->ended_sessions) co_await publish_revocation(session_id, now);
  log::info(done, {{"user_id", change->user.id},
                   {"by", by},
                   {"sessions_ended", static_cast<std::int64_t>(change->ended_sessions.size())}});
  co_return std::move(*change);
}

asio::awaitable<Result<pb::UserResponse>> IdentityService::deactivate_user(const pb::DeactivateUserRequest& req,
                                                                           const Ctx& ctx) {
  auto edit = admin_edit(ctx, AccountEdit::Kind::kDeactivate, req.user_id());
  if (!edit) co_return audit_refusal(ctx, edit.error(), "user", req.user_id());
  auto change = co_await edit_account(std::move(*edit), ctx, "user deactivated");
  if (!change) co_return change.error();
  co_return user_response(*change);
}

asio::awaitable<Result<pb::UserResponse>> IdentityService::reactivate_user(const pb::ReactivateUserRequest& req,
                                                                           const Ctx& ctx) {
  auto edit = admin_edit(ctx, AccountEdit::Kind::kReactivate, req.user_id());
  if (!edit) co_return audit_refusal(ctx, edit.error(), "user", req.user_id());
  auto change = co_await edit_account(std::move(*edit), ctx, "user reactivated");
  if (!change) co_return change.error();
  co_return user_response(*change);
}

asio::awaitable<Result<pb::UserResponse>> IdentityService::set_role(const pb::SetRoleRequest& req, const Ctx& ctx) {
  auto edit = admin_edit(ctx, AccountEdit::Kind::kSetRole, req.user_id());
  if (!edit) co_return audit_refusal(ctx, edit.error(), "user", req.user_id());
  auto role = parse_role_field(req.role(), "role");
  if (!role) co_return role.error();
  edit->role = *role;
  auto change = co_await edit_account(std::move(*edit), ctx, "user role set");
  if (!change) co_return change.error();
  co_return user_response(*change);
}

asio::awaitable<Result<pb::UserResponse>> IdentityService::update_user(const pb::UpdateUserRequest& req,
                                                                       const Ctx& ctx) {
  auto edit = admin_edit(ctx, AccountEdit::Kind::kUpdate, req.user_id());
  if (!edit) co_return audit_refusal(ctx, edit.error(), "user", req.user_id());
  if (req.display_name().empty() && req.email().empty())
    co_return invalid_argument("display_name", "display_name: give a new display_name or email");
  if (!req.display_name().empty()) {
    if (auto s = validate_display_name(req.display_name(), "display_name"); !s) co_return s.error();
    edit->display_name = req.display_name();
  }
  if (!req.email().empty()) {
    auto email = normalize_email(req.email(), "email");
    if (!email) co_return email.error();
    edit->email = std::move(*email);
  }
  auto change = co_await edit_account(std::move(*edit), ctx, "user updated");
  if (!change) co_return change.error();
  co_return user_response(*change);
}

asio::awaitable<Result<pb::StartPasswordResetResponse>> IdentityService::start_password_reset(
    const pb::StartPasswordResetRequest& req, const Ctx& ctx) {
  auto edit = admin_edit(ctx, AccountEdit::Kind::kStartReset, req.user_id());
  if (!edit) co_return audit_refusal(ctx, edit.error(), "user", req.user_id());
  // Shown once to the admin; only its sha256 is kept.
  const std::string token = new_refresh_token();
  edit->reset_token_hash = refresh_token_digest(token);
  edit->reset_expires_unix_ms = now_unix_ms() + options_.password_reset_ttl.count();
  const auto expires = edit->reset_expires_unix_ms;
  auto change = co_await edit_account(std::move(*edit), ctx, "password reset started");
  if (!change) co_return change.error();
  pb::StartPasswordResetResponse resp;
  resp.set_reset_token(token);
  resp.set_expires_unix_ms(expires);
  fill(*resp.mutable_user(), change->user);
  resp.set_sessions_ended(static_cast<std::int32_t>(change->ended_sessions.size()));
  co_return resp;
}

asio::awaitable<Result<pb::UserResponse>> IdentityService::reset_two_factor(const pb::ResetTwoFactorRequest& req,
                                                                            const Ctx& ctx) {
  auto edit = admin_edit(ctx, AccountEdit::Kind::kResetTwoFactor, req.user_id());
  if (!edit) co_return audit_refusal(ctx, edit.error(), "user", req.user_id());
  edit->by_user_id = ctx.caller.user_id();
  auto change = co_await edit_account(std::move(*edit), ctx, "two-factor sign-in reset");
  if (!change) co_return change.error();
  co_return user_response(*change);
}

asio::awaitable<Result<pb::PracticeResponse>> IdentityService::set_practice_policy(
    const pb::SetPracticePolicyRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin)
    co_return make_error(Code::kPermissionDenied, "only an admin can set the practice's policies");
  PracticePolicyChange change;
  if (req.has_therapists_book_any_client()) change.therapists_book_any_client = req.therapists_book_any_client();
  if (req.has_require_two_factor_for_staff()) change.require_two_factor_for_staff = req.require_two_factor_for_staff();
  if (req.has_time_zone()) {
    if (!req.time_zone().empty()) {
      if (auto s = validate_time_zone(req.time_zone()); !s) co_return s.error();
    }
    change.time_zone = req.time_zone();
  }
  if (!change.therapists_book_any_client && !change.require_two_factor_for_staff && !change.time_zone)
    co_return invalid_argument("therapists_book_any_client",
                               "therapists_book_any_client: give a policy to set (or require_two_factor_for_staff, "
                               "time_zone)");
  auto practice = co_await store_.set_practice_policy(caller->practice_id, change);
  if (!practice) co_return practice.error();
  if (!*practice) co_return Error{Code::kNotFound, "practice not found", {}};
  log::info("practice policy set", {{"practice_id", caller->practice_id},
                                    {"therapists_book_any_client", (*practice)->therapists_book_any_client},
                                    {"require_two_factor_for_staff", (*practice)->require_two_factor_for_staff},
                                    {"time_zone", (*practice)->time_zone},
                                    {"by", caller->user_id}});
  pb::PracticeResponse resp;
  fill(*resp.mutable_practice(), **practice);
  co_return resp;
}

asio::awaitable<Result<pb::RedeemPasswordResetResponse>> IdentityService::redeem_password_reset(
    const pb::RedeemPasswordResetRequest& req, const Ctx&) {
  if (req.reset_token().empty() || req.reset_token().size() > 256) co_return reset_token_invalid();
  if (auto s = validate_password(req.new_password(), "new_password"); !s) co_return s.error();
  const std::string digest = refresh_token_digest(req.reset_token());
  auto reset = co_await store_.find_password_reset(digest, now_unix_ms());
  if (!reset) co_return reset.error();
  // Checked against the person before the token is used up, so a refused password can be retried.
  // Named before the co_await (g++ 12 destroys an aggregate temporary in a co_await twice).
  PasswordOwner owner{reset->user.email, reset->user.display_name};
  auto hash = co_await hash_new_password(req.new_password(), std::move(owner), "new_password");
  if (!hash) co_return hash.error();
  auto redeemed = co_await store_.redeem_password_reset(digest, std::move(*hash), now_unix_ms());
  if (!redeemed) co_return redeemed.error();
  log::info("password reset", {{"user_id", redeemed->user.id}});
  pb::RedeemPasswordResetResponse resp;
  fill(*resp.mutable_user(), redeemed->user);
  resp.set_practice_slug(redeemed->practice_slug);
  co_return resp;
}

}  // namespace alliance::identity
