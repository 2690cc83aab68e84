// IdentityService's audit methods: the records identity writes about its own handlers,
// the batches other services send (AppendAudit), an admin's query of the log and a
// client's view of who accessed their record.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/audit/audit_sender.hpp"
#include "alliance/crypto/encoding.hpp"
#include "audit_log.hpp"
#include "handler_common.hpp"
#include "identity_service.hpp"

namespace alliance::identity {
namespace {

constexpr int kMaxAppendBatch = 500;

// "2026-12-01T00:00:00Z" -> unix ms; "" -> fallback.
Result<std::int64_t> parse_instant(const std::string& text, std::string_view field, std::int64_t fallback) {
  if (text.empty()) return fallback;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char z = 0;
  int used = 0;
  if (text.size() != 20 ||
      std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &y, &mo, &d, &h, &mi, &s, &z, &used) != 7 ||
      used != 20 || z != 'Z')
    return invalid_argument(std::string(field), std::string(field) + ": must be like 2026-12-01T00:00:00Z");
  const std::chrono::year_month_day day{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!day.ok() || h > 23 || mi > 59 || s > 59)
    return invalid_argument(std::string(field), std::string(field) + ": is not a valid time");
  const auto tp = std::chrono::sys_days(day) + std::chrono::hours(h) + std::chrono::minutes(mi) +
                  std::chrono::seconds(s);
  return std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}

std::string format_instant(std::int64_t unix_ms) {
  const std::chrono::sys_time<std::chrono::milliseconds> tp{std::chrono::milliseconds(unix_ms)};
  const auto day = std::chrono::floor<std::chrono::days>(tp);
  const std::chrono::year_month_day ymd{day};
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(tp - day).count();
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return buf;
}

Result<int> page_limit(int limit, int fallback, int most) {
  if (limit == 0) return fallback;
  if (limit < 1 || limit > most) return invalid_argument("limit", "limit: must be 1.." + std::to_string(most));
  return limit;
}

// The cursor is the seq of the last record of the previous page.
Result<std::int64_t> parse_cursor(const std::string& cursor) {
  if (cursor.empty()) return std::int64_t{0};
  std::int64_t seq = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), seq);
  if (ec != std::errc{} || end != cursor.data() + cursor.size() || seq < 1)
    return invalid_argument("cursor", "cursor: is not a cursor this method returned");
  return seq;
}

std::string next_cursor(const std::vector<audit::Record>& page, int limit) {
  if (page.size() < static_cast<std::size_t>(limit) || page.empty()) return "";
  return std::to_string(page.back().seq);
}

audit::Record from_proto(const pb::AuditRecord& in) {
  audit::Record r;
  r.at_unix_ms = in.at_unix_ms();
  r.practice_id = in.practice_id();
  r.actor_user_id = in.actor_user_id();
  r.actor_role = in.actor_role();
  r.session_id = in.session_id();
  r.source_address = in.source_address();
  r.action = in.action();
  r.object_type = in.object_type();
  r.object_id = in.object_id();
  r.subject_user_id = in.subject_user_id();
  r.outcome = in.outcome();
  return r;
}

void fill(pb::AuditRecord& out, const audit::Record& r) {
  out.set_seq(r.seq);
  out.set_at_unix_ms(r.at_unix_ms);
  out.set_practice_id(r.practice_id);
  out.set_actor_user_id(r.actor_user_id);
  out.set_actor_role(r.actor_role);
  out.set_session_id(r.session_id);
  out.set_source_address(r.source_address);
  out.set_service(r.service);
  out.set_action(r.action);
  out.set_object_type(r.object_type);
  out.set_object_id(r.object_id);
  out.set_subject_user_id(r.subject_user_id);
  out.set_outcome(r.outcome);
  out.set_hash(to_hex(r.hash));
}

Error audit_unavailable() { return make_error(Code::kUnavailable, "the audit log is not available"); }

}  // namespace

void IdentityService::audit_event(const Ctx& ctx, AuditEvent e) {
  if (!audit_) return;
  audit::Record r;
  r.practice_id = e.practice_id.empty() ? ctx.caller.practice_id() : std::string(e.practice_id);
  r.actor_user_id = e.actor_user_id.empty() ? ctx.caller.user_id() : std::string(e.actor_user_id);
  r.actor_role = e.actor_role.empty() ? ctx.caller.role() : std::string(e.actor_role);
  r.session_id = ctx.caller.session_id();
  r.source_address = ctx.caller.source_address();
  r.service = "identity";
  r.action = std::string(e.action);
  r.object_type = std::string(e.object_type);
  r.object_id = std::string(e.object_id);
  r.subject_user_id = std::string(e.subject_user_id);
  r.outcome = std::string(e.outcome);
  audit_->record(std::move(r));
}

Error IdentityService::audit_refusal(const Ctx& ctx, Error e, std::string_view object_type,
                                     std::string_view object_id) {
  const auto outcome = audit::outcome_of(e);
  if (outcome != "failed")
    audit_event(ctx, {.action = "authorization.denied", .object_type = object_type, .object_id = object_id,
                      .outcome = outcome});
  return e;
}

asio::awaitable<Result<pb::AppendAuditResponse>> IdentityService::append_audit(const pb::AppendAuditRequest& req,
                                                                               const Ctx& ctx) {
  if (auto s = require_internal(ctx); !s) co_return s.error();
  if (!audit_) co_return audit_unavailable();
  if (req.records_size() > kMaxAppendBatch)
    co_return invalid_argument("records", "records: at most " + std::to_string(kMaxAppendBatch));
  std::vector<audit::Record> records;
  records.reserve(static_cast<std::size_t>(req.records_size()));
  for (const auto& in : req.records()) {
    records.push_back(from_proto(in));
    records.back().service = ctx.peer_name;  // the verified certificate's name, not the sender's word
  }
  auto last = co_await audit_->append(std::move(records));
  if (!last) co_return last.error();
  pb::AppendAuditResponse resp;
  resp.set_last_seq(*last);
  co_return resp;
}

asio::awaitable<Result<pb::QueryAuditResponse>> IdentityService::query_audit(const pb::QueryAuditRequest& req,
                                                                             const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin) {
    audit_event(ctx, {.action = "audit.read", .object_type = "audit_log", .outcome = "denied"});
    co_return make_error(Code::kPermissionDenied, "only an admin can read the audit log");
  }
  if (!audit_) co_return audit_unavailable();
  auto limit = page_limit(req.limit(), 50, 500);
  if (!limit) co_return limit.error();
  auto since = parse_instant(req.since(), "since", 0);
  if (!since) co_return since.error();
  auto until = parse_instant(req.until(), "until", 0);
  if (!until) co_return until.error();
  auto before = parse_cursor(req.cursor());
  if (!before) co_return before.error();
  if (req.user_id().size() > 64) co_return invalid_argument("user_id", "user_id: at most 64 characters");
  if (req.client_id().size() > 64) co_return invalid_argument("client_id", "client_id: at most 64 characters");
  // Built before the co_await: g++ 12 frees a braced list written inside one twice.
  AuditQuery q{.practice_id = caller->practice_id,
               .actor_user_id = req.user_id(),
               .subject_user_id = req.client_id(),
               .since_unix_ms = *since,
               .until_unix_ms = *until,
               .before_seq = *before,
               .limit = *limit};
  auto page = co_await audit_->query(std::move(q));
  if (!page) co_return page.error();
  audit_event(ctx, {.action = "audit.read", .object_type = "audit_log", .subject_user_id = req.client_id()});
  pb::QueryAuditResponse resp;
  for (const auto& r : *page) fill(*resp.add_records(), r);
  resp.set_next_cursor(next_cursor(*page, *limit));
  co_return resp;
}

asio::awaitable<Result<pb::PruneAuditResponse>> IdentityService::prune_audit(const pb::PruneAuditRequest& req,
                                                                             const Ctx&) {
  if (operator_digest_.empty() ||
      !crypto::constant_time_equal(crypto::sha256(req.operator_token()), operator_digest_))
    co_return Error{Code::kPermissionDenied, "operator token is not valid", "operator_token"};
  if (req.before().empty()) co_return invalid_argument("before", "before: is required");
  auto before = parse_instant(req.before(), "before", 0);
  if (!before) co_return before.error();
  if (!audit_) co_return audit_unavailable();
  auto done = co_await audit_->prune(*before);
  if (!done) co_return done.error();
  log::info("audit log pruned", {{"through_seq", done->through_seq}, {"records", done->records},
                                 {"archive", done->archive.filename().string()}});
  pb::PruneAuditResponse resp;
  resp.set_through_seq(done->through_seq);
  resp.set_records(done->records);
  resp.set_archive(done->archive.filename().string());
  co_return resp;
}

asio::awaitable<Result<pb::GetAccessLogResponse>> IdentityService::get_access_log(const pb::GetAccessLogRequest& req,
                                                                                  const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (!audit_) co_return audit_unavailable();
  auto limit = page_limit(req.limit(), 50, 200);
  if (!limit) co_return limit.error();
  auto before = parse_cursor(req.cursor());
  if (!before) co_return before.error();
  AuditQuery q{.practice_id = caller->practice_id,
               .subject_user_id = caller->user_id,
               .before_seq = *before,
               .limit = *limit,
               .exclude_actor_is_subject = true};
  auto page = co_await audit_->query(std::move(q));
  if (!page) co_return page.error();
  std::vector<std::string> actors;
  for (const auto& r : *page)
    if (!r.actor_user_id.empty() && std::find(actors.begin(), actors.end(), r.actor_user_id) == actors.end())
      actors.push_back(r.actor_user_id);
  std::map<std::string, std::string, std::less<>> names;
  if (!actors.empty()) {
    auto found = co_await store_.lookup_users(std::move(actors));
    if (!found) co_return found.error();
    for (const auto& u : found->users)
      if (u.practice_id == caller->practice_id) names.emplace(u.id, u.display_name);
  }
  pb::GetAccessLogResponse resp;
  for (const auto& r : *page) {
    auto* e = resp.add_entries();
    e->set_at(format_instant(r.at_unix_ms));
    e->set_actor_role(r.actor_role);
    if (auto it = names.find(r.actor_user_id); it != names.end()) e->set_actor_name(it->second);
    e->set_action(r.action);
    e->set_object_type(r.object_type);
    e->set_object_id(r.object_id);
    e->set_outcome(r.outcome);
  }
  resp.set_next_cursor(next_cursor(*page, *limit));
  co_return resp;
}

}  // namespace alliance::identity
