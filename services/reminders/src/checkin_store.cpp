#include "checkin_store.hpp"

#include "alliance/core/ids.hpp"
#include "alliance/store/query.hpp"

namespace alliance::reminders {
namespace {

using store::Blob;
using store::Connection;
using store::execute;
using store::query_all;
using store::query_one;
using store::Statement;

// Ratings are NULL until submitted; the comment's ciphertext is opaque bytes sealed on
// the client's device, its per-device keys in checkin_comment_keys.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE checkins (
  id TEXT PRIMARY KEY,
  appointment_id TEXT NOT NULL UNIQUE,
  practice_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  therapist_id TEXT NOT NULL,
  session_start_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'submitted', 'expired', 'withdrawn')),
  pushed_ms INTEGER NOT NULL DEFAULT 0,
  acked_ms INTEGER NOT NULL DEFAULT 0,
  submitted_ms INTEGER NOT NULL DEFAULT 0,
  relationship INTEGER CHECK (relationship BETWEEN 0 AND 10),
  goals INTEGER CHECK (goals BETWEEN 0 AND 10),
  approach INTEGER CHECK (approach BETWEEN 0 AND 10),
  overall INTEGER CHECK (overall BETWEEN 0 AND 10),
  total INTEGER,
  comment_sender_device TEXT NOT NULL DEFAULT '',
  comment_ciphertext BLOB
);
CREATE INDEX checkins_by_client ON checkins(client_id, state);
CREATE INDEX checkins_by_therapist ON checkins(therapist_id, submitted_ms) WHERE state = 'submitted';
CREATE INDEX checkins_by_practice ON checkins(practice_id, therapist_id);
CREATE INDEX checkins_unpushed ON checkins(created_ms) WHERE state = 'pending' AND pushed_ms = 0;
CREATE INDEX checkins_open_expiry ON checkins(expires_ms) WHERE state = 'pending';
CREATE TABLE checkin_comment_keys (
  checkin_id TEXT NOT NULL REFERENCES checkins(id) ON DELETE CASCADE,
  device_id TEXT NOT NULL,
  wrapped_key BLOB NOT NULL,
  PRIMARY KEY (checkin_id, device_id)
);
CREATE TABLE checkin_alerts (
  id TEXT PRIMARY KEY,
  checkin_id TEXT NOT NULL REFERENCES checkins(id) ON DELETE CASCADE,
  practice_id TEXT NOT NULL,
  therapist_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  appointment_id TEXT NOT NULL,
  reasons TEXT NOT NULL,
  total INTEGER NOT NULL,
  previous_average_x100 INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  pushed_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX checkin_alerts_by_therapist ON checkin_alerts(therapist_id, created_ms);
CREATE INDEX checkin_alerts_unpushed ON checkin_alerts(created_ms) WHERE pushed_ms = 0;
CREATE TABLE checkin_policies (
  practice_id TEXT PRIMARY KEY,
  alert_below_total INTEGER NOT NULL,
  alert_drop_points INTEGER NOT NULL,
  admin_summary INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE checkin_preferences (
  user_id TEXT PRIMARY KEY,
  enabled INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
)sql";

constexpr std::string_view kColumns =
    "id, appointment_id, practice_id, client_id, therapist_id, state, session_start_ms, created_ms, expires_ms, "
    "pushed_ms, acked_ms, submitted_ms, COALESCE(relationship, 0), COALESCE(goals, 0), COALESCE(approach, 0), "
    "COALESCE(overall, 0), comment_sender_device, comment_ciphertext";

CheckinRow read_checkin(Statement& s) {
  CheckinRow r;
  r.id = s.column_text(0);
  r.appointment_id = s.column_text(1);
  r.practice_id = s.column_text(2);
  r.client_id = s.column_text(3);
  r.therapist_id = s.column_text(4);
  r.state = s.column_text(5);
  r.session_start_ms = s.column_int(6);
  r.created_ms = s.column_int(7);
  r.expires_ms = s.column_int(8);
  r.pushed_ms = s.column_int(9);
  r.acked_ms = s.column_int(10);
  r.submitted_ms = s.column_int(11);
  r.ratings = {static_cast<int>(s.column_int(12)), static_cast<int>(s.column_int(13)),
               static_cast<int>(s.column_int(14)), static_cast<int>(s.column_int(15))};
  r.comment.sender_device_id = s.column_text(16);
  r.comment.ciphertext = s.column_blob(17);
  return r;
}

std::string with_columns(std::string_view before, std::string_view after) {
  std::string out(before);
  out += kColumns;
  out += after;
  return out;
}

// The comment's per-device keys of each row that has a comment.
void load_keys(Connection& c, std::vector<CheckinRow>& rows) {
  for (auto& r : rows) {
    if (r.comment.empty()) continue;
    r.comment.keys = query_all(
        c, "SELECT device_id, wrapped_key FROM checkin_comment_keys WHERE checkin_id = ? ORDER BY rowid",
        [](Statement& s) { return CommentKey{s.column_text(0), s.column_blob(1)}; }, r.id);
  }
}

std::optional<CheckinRow> find(Connection& c, std::string_view id) {
  static const std::string sql = with_columns("SELECT ", " FROM checkins WHERE id = ?");
  auto row = query_one(c, sql, read_checkin, id);
  if (!row) return row;
  std::vector<CheckinRow> one{std::move(*row)};
  load_keys(c, one);
  return std::move(one.front());
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

std::vector<std::string> split_reasons(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto at = s.find(',');
    out.emplace_back(s.substr(0, at));
    s = at == std::string_view::npos ? std::string_view() : s.substr(at + 1);
  }
  return out;
}

AlertRow read_alert(Statement& s) {
  AlertRow a;
  a.id = s.column_text(0);
  a.checkin_id = s.column_text(1);
  a.practice_id = s.column_text(2);
  a.therapist_id = s.column_text(3);
  a.client_id = s.column_text(4);
  a.appointment_id = s.column_text(5);
  a.reasons = split_reasons(s.column_text(6));
  a.total = static_cast<int>(s.column_int(7));
  a.previous_average_x100 = static_cast<int>(s.column_int(8));
  a.created_ms = s.column_int(9);
  return a;
}

constexpr std::string_view kAlertColumns =
    "id, checkin_id, practice_id, therapist_id, client_id, appointment_id, reasons, total, previous_average_x100, "
    "created_ms";

PolicyOfCheckins policy_in(Connection& c, std::string_view practice_id) {
  auto row = query_one(c,
                       "SELECT alert_below_total, alert_drop_points, admin_summary, updated_by, updated_ms "
                       "FROM checkin_policies WHERE practice_id = ?",
                       [&](Statement& s) {
                         return PolicyOfCheckins{std::string(practice_id),
                                                 CheckinPolicy{static_cast<int>(s.column_int(0)),
                                                               static_cast<int>(s.column_int(1)), s.column_int(2) != 0},
                                                 s.column_text(3), s.column_int(4)};
                       },
                       practice_id);
  return row.value_or(PolicyOfCheckins{std::string(practice_id), {}, "", 0});
}

bool enabled_in(Connection& c, std::string_view user_id) {
  auto v = query_one(c, "SELECT enabled FROM checkin_preferences WHERE user_id = ?",
                     [](Statement& s) { return s.column_int(0) != 0; }, user_id);
  return v.value_or(true);
}

}  // namespace

std::string_view checkin_schema() { return kSchema; }

bool make_checkin(Connection& c, std::string_view appointment_id, std::string_view practice_id,
                  std::string_view client_id, std::string_view therapist_id, std::int64_t session_start_ms,
                  std::int64_t created_ms, std::int64_t expires_ms) {
  if (!enabled_in(c, client_id)) return false;
  return execute(c,
                 "INSERT INTO checkins (id, appointment_id, practice_id, client_id, therapist_id, session_start_ms, "
                 "created_ms, expires_ms, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending') "
                 "ON CONFLICT(appointment_id) DO NOTHING",
                 new_id(), appointment_id, practice_id, client_id, therapist_id, session_start_ms, created_ms,
                 expires_ms) == 1;
}

asio::awaitable<Result<std::vector<CheckinRow>>> CheckinStore::unpushed(std::int64_t now_ms, int limit) {
  co_return co_await db_.read([now_ms, limit](Connection& c) -> Result<std::vector<CheckinRow>> {
    static const std::string sql = with_columns(
        "SELECT ", " FROM checkins WHERE state = 'pending' AND pushed_ms = 0 AND expires_ms > ?1 "
                   "ORDER BY created_ms LIMIT ?2");
    return query_all(c, sql, read_checkin, now_ms, limit);
  });
}

asio::awaitable<Result<std::vector<AlertRow>>> CheckinStore::unpushed_alerts(int limit) {
  co_return co_await db_.read([limit](Connection& c) -> Result<std::vector<AlertRow>> {
    static const std::string sql = "SELECT " + std::string(kAlertColumns) +
                                   " FROM checkin_alerts WHERE pushed_ms = 0 ORDER BY created_ms LIMIT ?1";
    return query_all(c, sql, read_alert, limit);
  });
}

asio::awaitable<Status> CheckinStore::mark_pushed(std::vector<std::string> checkin_ids,
                                                  std::vector<std::string> alert_ids, std::int64_t at_ms) {
  auto job = [checkins = std::move(checkin_ids), alerts = std::move(alert_ids), at_ms](Connection& c) -> Status {
    for (const auto& id : checkins)
      execute(c, "UPDATE checkins SET pushed_ms = ?2 WHERE id = ?1 AND pushed_ms = 0", id, at_ms);
    for (const auto& id : alerts)
      execute(c, "UPDATE checkin_alerts SET pushed_ms = ?2 WHERE id = ?1 AND pushed_ms = 0", id, at_ms);
    return {};
  };
  co_return co_await db_.write(std::move(job));
}

asio::awaitable<Result<int>> CheckinStore::expire(std::int64_t now_ms) {
  co_return co_await db_.write([now_ms](Connection& c) -> Result<int> {
    return execute(c, "UPDATE checkins SET state = 'expired' WHERE state = 'pending' AND expires_ms <= ?1", now_ms);
  });
}

asio::awaitable<Result<std::vector<CheckinRow>>> CheckinStore::open_for(std::string client_id, std::int64_t now_ms,
                                                                        bool unacked_only) {
  auto job = [id = std::move(client_id), now_ms, unacked_only](Connection& c) -> Result<std::vector<CheckinRow>> {
    static const std::string sql = with_columns(
        "SELECT ", " FROM checkins WHERE client_id = ?1 AND state = 'pending' AND expires_ms > ?2 "
                   "AND (?3 = 0 OR acked_ms = 0) ORDER BY created_ms DESC LIMIT 100");
    return query_all(c, sql, read_checkin, id, now_ms, unacked_only ? 1 : 0);
  };
  co_return co_await db_.read(std::move(job));
}

asio::awaitable<Result<std::optional<CheckinRow>>> CheckinStore::acknowledge(std::string client_id,
                                                                             std::string checkin_id,
                                                                             std::int64_t now_ms) {
  auto job = [client_id = std::move(client_id), id = std::move(checkin_id),
              now_ms](Connection& c) -> Result<std::optional<CheckinRow>> {
    auto row = find(c, id);
    if (!row || row->client_id != client_id) return std::optional<CheckinRow>();
    if (row->acked_ms == 0) {
      execute(c, "UPDATE checkins SET acked_ms = ?2 WHERE id = ?1", id, now_ms);
      row->acked_ms = now_ms;
    }
    return row;
  };
  co_return co_await db_.write(std::move(job));
}

asio::awaitable<Result<SubmitResult>> CheckinStore::submit(std::string client_id, std::string checkin_id,
                                                           CheckinRatings ratings, SealedComment comment,
                                                           std::int64_t now_ms) {
  auto job = [client_id = std::move(client_id), id = std::move(checkin_id), ratings, comment = std::move(comment),
              now_ms](Connection& c) -> Result<SubmitResult> {
    auto row = find(c, id);
    if (!row || row->client_id != client_id)
      return Error{Code::kNotFound, "checkin_id: no such check-in", "checkin_id"};
    if (row->state == "submitted") {
      if (row->ratings == ratings && row->comment == comment) return SubmitResult{std::move(*row), true, {}};
      return Error{Code::kAlreadyExists, "checkin_id: this check-in was already answered", "checkin_id"};
    }
    if (row->state != "pending" || row->expires_ms <= now_ms)
      return Error{Code::kFailedPrecondition,
                   row->state == "withdrawn" ? "checkin_id: check-ins are turned off"
                                             : "checkin_id: the check-in has expired",
                   "checkin_id"};
    // The client's earlier answers with this therapist, before this one counts.
    auto earlier = query_one(
        c,
        "SELECT COUNT(*), COALESCE(SUM(total), 0) FROM checkins WHERE client_id = ?1 AND therapist_id = ?2 "
        "AND state = 'submitted'",
        [](Statement& s) { return std::pair<std::int64_t, std::int64_t>{s.column_int(0), s.column_int(1)}; },
        row->client_id, row->therapist_id);
    const auto [count, sum] = earlier.value_or(std::pair<std::int64_t, std::int64_t>{0, 0});
    const std::optional<Blob> ciphertext =
        comment.empty() ? std::nullopt : std::optional<Blob>(Blob{comment.ciphertext});
    execute(c,
            "UPDATE checkins SET state = 'submitted', submitted_ms = ?2, relationship = ?3, goals = ?4, approach = ?5, "
            "overall = ?6, total = ?7, comment_sender_device = ?8, comment_ciphertext = ?9 WHERE id = ?1",
            id, now_ms, ratings.relationship, ratings.goals, ratings.approach, ratings.overall, ratings.total(),
            comment.sender_device_id, ciphertext);
    for (const auto& k : comment.keys)
      execute(c, "INSERT INTO checkin_comment_keys (checkin_id, device_id, wrapped_key) VALUES (?1, ?2, ?3)", id,
              k.device_id, Blob{k.wrapped_key});
    row->state = "submitted";
    row->submitted_ms = now_ms;
    row->ratings = ratings;
    row->comment = comment;
    SubmitResult out{std::move(*row), false, {}};
    const double average = count > 0 ? static_cast<double>(sum) / static_cast<double>(count) : 0.0;
    auto policy = policy_in(c, out.checkin.practice_id).policy;
    auto reasons = alert_reasons(policy, ratings.total(), average, static_cast<int>(count));
    if (!reasons.empty()) {
      const auto& k = out.checkin;
      AlertRow a{new_id(),         k.id,          k.practice_id,
                 k.therapist_id,   k.client_id,   k.appointment_id,
                 std::move(reasons), ratings.total(), static_cast<int>(average * 100.0 + 0.5),
                 now_ms};
      execute(c,
              "INSERT INTO checkin_alerts (id, checkin_id, practice_id, therapist_id, client_id, appointment_id, "
              "reasons, total, previous_average_x100, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
              a.id, a.checkin_id, a.practice_id, a.therapist_id, a.client_id, a.appointment_id, join(a.reasons),
              a.total, a.previous_average_x100, now_ms);
      out.alert = std::move(a);
    }
    return out;
  };
  co_return co_await db_.write(std::move(job));
}

asio::awaitable<Result<std::pair<bool, std::int64_t>>> CheckinStore::preference(std::string user_id) {
  auto job = [id = std::move(user_id)](Connection& c) -> Result<std::pair<bool, std::int64_t>> {
    auto row = query_one(c, "SELECT enabled, updated_ms FROM checkin_preferences WHERE user_id = ?",
                         [](Statement& s) { return std::pair<bool, std::int64_t>{s.column_int(0) != 0, s.column_int(1)}; },
                         id);
    return row.value_or(std::pair<bool, std::int64_t>{true, 0});
  };
  co_return co_await db_.read(std::move(job));
}

asio::awaitable<Status> CheckinStore::set_preference(std::string user_id, bool enabled, std::int64_t now_ms) {
  auto job = [id = std::move(user_id), enabled, now_ms](Connection& c) -> Status {
    execute(c,
            "INSERT INTO checkin_preferences (user_id, enabled, updated_ms) VALUES (?1, ?2, ?3) "
            "ON CONFLICT(user_id) DO UPDATE SET enabled = ?2, updated_ms = ?3",
            id, enabled ? 1 : 0, now_ms);
    if (!enabled) execute(c, "UPDATE checkins SET state = 'withdrawn' WHERE client_id = ?1 AND state = 'pending'", id);
    return {};
  };
  co_return co_await db_.write(std::move(job));
}

asio::awaitable<Result<std::vector<CheckinRow>>> CheckinStore::submitted_for(std::string therapist_id,
                                                                             std::string client_id) {
  auto job = [therapist = std::move(therapist_id),
              client = std::move(client_id)](Connection& c) -> Result<std::vector<CheckinRow>> {
    static const std::string sql = with_columns(
        "SELECT ", " FROM checkins WHERE therapist_id = ?1 AND state = 'submitted' AND (?2 = '' OR client_id = ?2) "
                   "ORDER BY submitted_ms DESC LIMIT 500");
    auto rows = query_all(c, sql, read_checkin, therapist, client);
    load_keys(c, rows);
    return rows;
  };
  co_return co_await db_.read(std::move(job));
}

asio::awaitable<Result<std::vector<AlertRow>>> CheckinStore::alerts_for(std::string therapist_id) {
  auto job = [id = std::move(therapist_id)](Connection& c) -> Result<std::vector<AlertRow>> {
    static const std::string sql = "SELECT " + std::string(kAlertColumns) +
                                   " FROM checkin_alerts WHERE therapist_id = ?1 ORDER BY created_ms DESC LIMIT 200";
    return query_all(c, sql, read_alert, id);
  };
  co_return co_await db_.read(std::move(job));
}

asio::awaitable<Result<PolicyOfCheckins>> CheckinStore::policy(std::string practice_id) {
  auto job = [id = std::move(practice_id)](Connection& c) -> Result<PolicyOfCheckins> { return policy_in(c, id); };
  co_return co_await db_.read(std::move(job));
}

asio::awaitable<Status> CheckinStore::set_policy(PolicyOfCheckins row) {
  auto job = [row = std::move(row)](Connection& c) -> Status {
    execute(c,
            "INSERT INTO checkin_policies (practice_id, alert_below_total, alert_drop_points, admin_summary, "
            "updated_by, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(practice_id) DO UPDATE SET "
            "alert_below_total = ?2, alert_drop_points = ?3, admin_summary = ?4, updated_by = ?5, updated_ms = ?6",
            row.practice_id, row.policy.alert_below_total, row.policy.alert_drop_points,
            row.policy.admin_summary ? 1 : 0, row.updated_by, row.updated_ms);
    return {};
  };
  co_return co_await db_.write(std::move(job));
}

asio::awaitable<Result<std::vector<TherapistSummary>>> CheckinStore::summary(std::string practice_id) {
  auto job = [id = std::move(practice_id)](Connection& c) -> Result<std::vector<TherapistSummary>> {
    return query_all(
        c,
        "SELECT therapist_id, SUM(state = 'submitted'), SUM(state IN ('pending', 'expired')), "
        "COALESCE(SUM(CASE WHEN state = 'submitted' THEN total END), 0) FROM checkins WHERE practice_id = ?1 "
        "GROUP BY therapist_id ORDER BY therapist_id",
        [](Statement& s) {
          TherapistSummary t;
          t.therapist_id = s.column_text(0);
          t.submitted = static_cast<int>(s.column_int(1));
          t.unanswered = static_cast<int>(s.column_int(2));
          t.average_total_x100 =
              t.submitted > 0 ? static_cast<int>((s.column_int(3) * 100 + t.submitted / 2) / t.submitted) : 0;
          return t;
        },
        id);
  };
  co_return co_await db_.read(std::move(job));
}

asio::awaitable<Result<int>> CheckinStore::erase_client(std::string practice_id, std::string client_id) {
  auto job = [practice = std::move(practice_id), client = std::move(client_id)](Connection& c) -> Result<int> {
    // Keys and alerts go with their check-in (ON DELETE CASCADE).
    return execute(c, "DELETE FROM checkins WHERE practice_id = ?1 AND client_id = ?2", practice, client);
  };
  co_return co_await db_.write(std::move(job));
}

}  // namespace alliance::reminders
