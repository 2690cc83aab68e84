#include "reminder_store.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "alliance/core/ids.hpp"
#include "alliance/store/query.hpp"
#include "checkin_store.hpp"

namespace alliance::reminders {
namespace {

using store::Connection;
using store::execute;
using store::query_all;
using store::query_one;
using store::Statement;

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE event_cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  after_seq INTEGER NOT NULL
);
INSERT INTO event_cursor (id, after_seq) VALUES (1, 0);
CREATE TABLE appointments (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  therapist_id TEXT NOT NULL,
  type_id TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  version INTEGER NOT NULL,
  client_zone TEXT NOT NULL,
  late_cancel_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX appointments_upcoming ON appointments(practice_id, start_ms);
CREATE TABLE reminders (
  id TEXT PRIMARY KEY,
  appointment_id TEXT NOT NULL REFERENCES appointments(id),
  appointment_version INTEGER NOT NULL,
  practice_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  therapist_id TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  offset_minutes INTEGER NOT NULL,
  planned_ms INTEGER NOT NULL,
  due_ms INTEGER NOT NULL,
  moved INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('planned', 'sent', 'acknowledged', 'cancelled', 'expired')),
  cancel_reason TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  sent_ms INTEGER NOT NULL DEFAULT 0,
  acked_ms INTEGER NOT NULL DEFAULT 0,
  cancelled_ms INTEGER NOT NULL DEFAULT 0,
  expired_ms INTEGER NOT NULL DEFAULT 0,
  pushed_ms INTEGER NOT NULL DEFAULT 0,
  deliveries INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until_ms INTEGER NOT NULL DEFAULT 0,
  fence INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reminders_planned_due ON reminders(due_ms) WHERE state = 'planned';
CREATE INDEX reminders_planned_lease ON reminders(lease_until_ms) WHERE state = 'planned';
CREATE INDEX reminders_unpushed ON reminders(lease_until_ms) WHERE state = 'sent' AND pushed_ms = 0;
CREATE INDEX reminders_open_start ON reminders(start_ms) WHERE state IN ('planned', 'sent');
CREATE INDEX reminders_by_client ON reminders(client_id, state);
CREATE INDEX reminders_by_appointment ON reminders(appointment_id);
CREATE TABLE deliveries (
  reminder_id TEXT NOT NULL REFERENCES reminders(id),
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  instance TEXT NOT NULL
);
CREATE INDEX deliveries_by_reminder ON deliveries(reminder_id);
CREATE TABLE policies (
  practice_id TEXT PRIMARY KEY,
  offsets TEXT NOT NULL,
  type_offsets TEXT NOT NULL,
  quiet_start TEXT NOT NULL,
  quiet_end TEXT NOT NULL,
  show_therapist INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE preferences (
  user_id TEXT PRIMARY KEY,
  enabled INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
)sql";

// A client's reminders are few: the index need not hold their state, and firing or
// acknowledging one (a change of state) no longer rewrites its entry.
constexpr std::string_view kSchemaV2 = R"sql(
DROP INDEX reminders_by_client;
CREATE INDEX reminders_by_client ON reminders(client_id);
)sql";

constexpr std::string_view kReminderColumns =
    "r.id, r.appointment_id, r.practice_id, r.client_id, r.therapist_id, r.state, r.cancel_reason, "
    "r.offset_minutes, r.moved, r.appointment_version, r.start_ms, r.planned_ms, r.due_ms, r.sent_ms, "
    "r.acked_ms, r.cancelled_ms, r.expired_ms, r.deliveries";
constexpr int kReminderColumnCount = 18;
constexpr std::string_view kAppointmentColumns =
    "a.id, a.practice_id, a.client_id, a.therapist_id, a.type_id, a.status, a.client_zone, a.start_ms, a.version, "
    "a.late_cancel_ms";

ReminderRow read_reminder(Statement& s, int at = 0) {
  ReminderRow r;
  r.id = s.column_text(at + 0);
  r.appointment_id = s.column_text(at + 1);
  r.practice_id = s.column_text(at + 2);
  r.client_id = s.column_text(at + 3);
  r.therapist_id = s.column_text(at + 4);
  r.state = s.column_text(at + 5);
  r.cancel_reason = s.column_text(at + 6);
  r.offset_minutes = static_cast<int>(s.column_int(at + 7));
  r.moved_for_quiet_hours = s.column_int(at + 8) != 0;
  r.appointment_version = s.column_int(at + 9);
  r.start_ms = s.column_int(at + 10);
  r.planned_ms = s.column_int(at + 11);
  r.due_ms = s.column_int(at + 12);
  r.sent_ms = s.column_int(at + 13);
  r.acked_ms = s.column_int(at + 14);
  r.cancelled_ms = s.column_int(at + 15);
  r.expired_ms = s.column_int(at + 16);
  r.deliveries = static_cast<int>(s.column_int(at + 17));
  return r;
}

AppointmentRow read_appointment(Statement& s, int at = 0) {
  AppointmentRow a;
  a.id = s.column_text(at + 0);
  a.practice_id = s.column_text(at + 1);
  a.client_id = s.column_text(at + 2);
  a.therapist_id = s.column_text(at + 3);
  a.type_id = s.column_text(at + 4);
  a.status = s.column_text(at + 5);
  a.client_zone = s.column_text(at + 6);
  a.start_ms = s.column_int(at + 7);
  a.version = s.column_int(at + 8);
  a.late_cancel_ms = s.column_int(at + 9);
  return a;
}

std::string sql(std::string_view a, std::string_view b = {}, std::string_view c = {}, std::string_view d = {}) {
  std::string out(a);
  out += b;
  out += c;
  out += d;
  return out;
}

bool is_active(std::string_view status) { return status == "booked" || status == "confirmed"; }

// ---- policy as stored: offsets "1440,120"; type overrides "type:60,30;type2:..."

std::string join_offsets(const std::vector<int>& v) {
  std::string out;
  for (int o : v) {
    if (!out.empty()) out += ',';
    out += std::to_string(o);
  }
  return out;
}

// The non-empty parts of `s` between `separator`s.
std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  while (!s.empty()) {
    auto at = s.find(separator);
    if (at != 0) parts.push_back(s.substr(0, at));
    s = at == std::string_view::npos ? std::string_view() : s.substr(at + 1);
  }
  return parts;
}

std::vector<int> split_offsets(std::string_view s) {
  std::vector<int> out;
  for (auto part : split(s, ',')) {
    int v = 0;
    std::from_chars(part.data(), part.data() + part.size(), v);
    out.push_back(v);
  }
  return out;
}

PolicyRow read_policy(Statement& s) {
  PolicyRow row;
  row.practice_id = s.column_text(0);
  std::vector<TypeOffsetsInput> types;
  const std::string overrides = s.column_text(2);
  for (auto item : split(overrides, ';')) {
    auto colon = item.find(':');
    if (colon != std::string_view::npos)
      types.push_back({std::string(item.substr(0, colon)), split_offsets(item.substr(colon + 1))});
  }
  // Stored only after parse_policy accepted it, so it parses again.
  auto parsed = parse_policy(split_offsets(s.column_text(1)), types, s.column_text(3), s.column_text(4),
                             s.column_int(5) != 0);
  row.policy = parsed ? std::move(*parsed) : default_policy();
  row.updated_by = s.column_text(6);
  row.updated_ms = s.column_int(7);
  return row;
}

PolicyRow policy_of(Connection& c, const std::string& practice_id) {
  auto row = query_one(
      c,
      "SELECT practice_id, offsets, type_offsets, quiet_start, quiet_end, show_therapist, updated_by, updated_ms "
      "FROM policies WHERE practice_id = ?",
      [](Statement& s) { return read_policy(s); }, practice_id);
  if (row) return std::move(*row);
  return PolicyRow{practice_id, default_policy(), "", 0};
}

TimePoint as_time(std::int64_t ms) { return TimePoint{std::chrono::milliseconds{ms}}; }
std::int64_t as_ms(TimePoint t) { return t.time_since_epoch().count(); }

int cancel_open(Connection& c, const std::string& appointment_id, std::string_view reason, std::int64_t now_ms) {
  return execute(c,
                 "UPDATE reminders SET state = 'cancelled', cancel_reason = ?2, cancelled_ms = ?3 "
                 "WHERE appointment_id = ?1 AND state IN ('planned', 'sent')",
                 appointment_id, reason, now_ms);
}

void insert_reminder(Connection& c, const AppointmentRow& a, const PlannedReminder& p, std::int64_t now_ms) {
  execute(c,
          "INSERT INTO reminders (id, appointment_id, appointment_version, practice_id, client_id, therapist_id, "
          "start_ms, offset_minutes, planned_ms, due_ms, moved, state, created_ms) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'planned', ?12)",
          new_id(), a.id, a.version, a.practice_id, a.client_id, a.therapist_id, a.start_ms, p.offset_minutes,
          as_ms(p.planned), as_ms(p.due), p.moved_for_quiet_hours ? 1 : 0, now_ms);
}

// The plan for `a` made at `plan_now`; of the reminders already due at `now_ms`
// (they came due while nobody was applying events) only the latest is kept.
std::vector<PlannedReminder> plan_for(const Policy& policy, const AppointmentRow& a, std::int64_t plan_now_ms,
                                      std::int64_t now_ms) {
  auto plan = plan_reminders(policy, a.type_id, as_time(a.start_ms), find_zone(a.client_zone), as_time(plan_now_ms));
  std::vector<PlannedReminder> kept;
  std::optional<PlannedReminder> latest_overdue;
  for (auto& p : plan) {
    if (as_ms(p.due) <= now_ms) {
      if (!latest_overdue || p.due >= latest_overdue->due) latest_overdue = p;
    } else {
      kept.push_back(p);
    }
  }
  if (latest_overdue) kept.insert(kept.begin(), *latest_overdue);
  return kept;
}

void upsert_appointment(Connection& c, const AppointmentRow& a, std::int64_t now_ms) {
  execute(c,
          "INSERT INTO appointments (id, practice_id, client_id, therapist_id, type_id, start_ms, status, version, "
          "client_zone, late_cancel_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
          "ON CONFLICT(id) DO UPDATE SET practice_id = ?2, client_id = ?3, therapist_id = ?4, type_id = ?5, "
          "start_ms = ?6, status = ?7, version = ?8, client_zone = ?9, late_cancel_ms = ?10, updated_ms = ?11",
          a.id, a.practice_id, a.client_id, a.therapist_id, a.type_id, a.start_ms, a.status, a.version, a.client_zone,
          a.late_cancel_ms, now_ms);
}

// One delivery per reminder: counted on the reminder (its first push time kept) and
// listed in deliveries.
void record_in(Connection& c, const std::vector<Delivery>& delivered, std::string_view kind,
               std::string_view instance) {
  for (const auto& d : delivered) {
    execute(c,
            "UPDATE reminders SET deliveries = deliveries + 1, "
            "pushed_ms = CASE WHEN pushed_ms = 0 THEN ?2 ELSE pushed_ms END WHERE id = ?1",
            d.reminder_id, d.at_ms);
    execute(c, "INSERT INTO deliveries (reminder_id, at_ms, kind, instance) VALUES (?1, ?2, ?3, ?4)", d.reminder_id,
            d.at_ms, kind, instance);
  }
}

}  // namespace

Result<std::unique_ptr<ReminderStore>> ReminderStore::open(const std::filesystem::path& path) {
  store::DatabaseOptions options;
  options.path = path;
  options.migrations = {store::Migration{1, kSchemaV1}, store::Migration{2, kSchemaV2},
                        store::Migration{3, checkin_schema()}};
  auto db = store::Database::open(std::move(options));
  if (!db) return std::move(db).error();
  return std::make_unique<ReminderStore>(std::move(*db));
}

ReminderStore::ReminderStore(std::unique_ptr<store::Database> db) : db_(std::move(db)) {}

asio::awaitable<Result<std::int64_t>> ReminderStore::cursor() {
  co_return co_await db_->read([](Connection& c) -> Result<std::int64_t> {
    auto v = query_one(c, "SELECT after_seq FROM event_cursor WHERE id = 1",
                       [](Statement& s) { return s.column_int(0); });
    return v.value_or(0);
  });
}

asio::awaitable<Result<ApplyResult>> ReminderStore::apply_events(std::int64_t expected_cursor,
                                                                 std::vector<EventInput> events, std::int64_t now_ms) {
  auto job = [expected_cursor, events = std::move(events), now_ms,
              expiry_ms = checkin_expiry_ms_](Connection& c) -> Result<ApplyResult> {
    ApplyResult out;
    out.cursor = query_one(c, "SELECT after_seq FROM event_cursor WHERE id = 1",
                           [](Statement& s) { return s.column_int(0); })
                     .value_or(0);
    if (out.cursor != expected_cursor) return out;
    std::map<std::string, PolicyRow> policies;
    for (const auto& ev : events) {
      const auto& a = ev.appointment;
      if (a.id.empty()) continue;  // an event scheduling sent that could not be used
      auto known = query_one(c, "SELECT start_ms, status, version FROM appointments WHERE id = ?",
                             [](Statement& s) {
                               return std::tuple<std::int64_t, std::string, std::int64_t>{
                                   s.column_int(0), s.column_text(1), s.column_int(2)};
                             },
                             a.id);
      if (known && std::get<2>(*known) >= a.version) continue;  // older or repeated
      upsert_appointment(c, a, now_ms);
      // A session just completed: its client's check-in, expiring from the completion.
      if (a.status == "completed" && !(known && std::get<1>(*known) == "completed")) {
        const auto completed_ms = ev.occurred_ms > 0 ? std::min(ev.occurred_ms, now_ms) : now_ms;
        if (make_checkin(c, a.id, a.practice_id, a.client_id, a.therapist_id, a.start_ms, completed_ms,
                         completed_ms + expiry_ms))
          ++out.checkins;
      }
      if (!is_active(a.status)) {
        if (known) out.cancelled += cancel_open(c, a.id, a.status, now_ms);
        continue;
      }
      // Same time, still active (a confirmation): the plan stands.
      if (known && std::get<0>(*known) == a.start_ms && is_active(std::get<1>(*known))) continue;
      if (known) out.cancelled += cancel_open(c, a.id, "rescheduled", now_ms);
      auto it = policies.find(a.practice_id);
      if (it == policies.end()) it = policies.emplace(a.practice_id, policy_of(c, a.practice_id)).first;
      for (const auto& p : plan_for(it->second.policy, a, std::min(ev.occurred_ms, now_ms), now_ms)) {
        insert_reminder(c, a, p, now_ms);
        ++out.planned;
      }
    }
    if (!events.empty()) {
      execute(c, "UPDATE event_cursor SET after_seq = ? WHERE id = 1", events.back().seq);
      out.cursor = events.back().seq;
    }
    out.applied = true;
    return out;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<Claim>>> ReminderStore::claim_due(std::string owner, std::int64_t now_ms,
                                                                     std::int64_t due_before_ms,
                                                                     std::int64_t lease_ms, int limit) {
  auto job = [owner = std::move(owner), now_ms, due_before_ms, lease_ms, limit](Connection& c)
      -> Result<std::vector<Claim>> {
    auto ids = query_all(c,
                         "SELECT id, 0 FROM reminders WHERE state = 'planned' AND due_ms <= ?1 AND lease_until_ms < ?2 "
                         "ORDER BY due_ms LIMIT ?3",
                         [](Statement& s) { return std::pair<std::string, bool>{s.column_text(0), false}; },
                         due_before_ms, now_ms, limit);
    auto resend = query_all(c,
                            "SELECT id, 1 FROM reminders WHERE state = 'sent' AND pushed_ms = 0 AND lease_until_ms < ?1 "
                            "LIMIT ?2",
                            [](Statement& s) { return std::pair<std::string, bool>{s.column_text(0), true}; },
                            now_ms, limit);
    ids.insert(ids.end(), resend.begin(), resend.end());
    std::vector<Claim> out;
    out.reserve(ids.size());
    const std::string select =
        sql("SELECT ", kReminderColumns, ", r.fence, r.lease_until_ms, COALESCE(p.show_therapist, 0), ",
            sql(kAppointmentColumns,
                " FROM reminders r JOIN appointments a ON a.id = r.appointment_id "
                "LEFT JOIN policies p ON p.practice_id = r.practice_id WHERE r.id = ?"));
    for (const auto& [id, is_resend] : ids) {
      execute(c,
              "UPDATE reminders SET lease_owner = ?2, lease_until_ms = MAX(due_ms, ?3) + ?4, fence = fence + 1 "
              "WHERE id = ?1",
              id, owner, now_ms, lease_ms);
      auto claim = query_one(
          c, select,
          [](Statement& s) {
            Claim cl;
            cl.reminder = read_reminder(s);
            cl.fence = s.column_int(kReminderColumnCount);
            cl.lease_until_ms = s.column_int(kReminderColumnCount + 1);
            cl.show_therapist_name = s.column_int(kReminderColumnCount + 2) != 0;
            cl.appointment = read_appointment(s, kReminderColumnCount + 3);
            return cl;
          },
          id);
      if (!claim) continue;
      claim->resend = is_resend;
      out.push_back(std::move(*claim));
    }
    return out;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<std::int64_t>>> ReminderStore::next_wake(std::string owner, std::int64_t now_ms,
                                                                              std::int64_t lookahead_ms) {
  auto job = [owner = std::move(owner), now_ms, lookahead_ms](Connection& c) -> Result<std::optional<std::int64_t>> {
    std::optional<std::int64_t> wake;
    auto take = [&](std::optional<std::int64_t> v) {
      if (v && (!wake || *v < *wake)) wake = v;
    };
    auto first = [](Statement& s) -> std::optional<std::int64_t> {
      if (s.column_is_null(0)) return std::nullopt;
      return s.column_int(0);
    };
    // The earliest planned reminder nobody holds a live lease on.
    if (auto v = query_one(c,
                           "SELECT due_ms FROM reminders WHERE state = 'planned' AND lease_until_ms < ?1 "
                           "ORDER BY due_ms LIMIT 1",
                           first, now_ms))
      take(*v ? std::optional<std::int64_t>(**v - lookahead_ms) : std::nullopt);
    // Leases of others that run out: their reminders may need taking over.
    if (auto v = query_one(c,
                           "SELECT MIN(lease_until_ms) FROM reminders WHERE state = 'planned' "
                           "AND lease_until_ms >= ?1 AND lease_owner <> ?2",
                           first, now_ms, owner))
      take(*v ? std::optional<std::int64_t>(**v + 1) : std::nullopt);
    // Pushes never recorded (ours or another's): pushed again once the lease runs out.
    if (auto v = query_one(c,
                           "SELECT MIN(lease_until_ms) FROM reminders WHERE state = 'sent' AND pushed_ms = 0 "
                           "AND lease_until_ms >= ?1",
                           first, now_ms))
      take(*v ? std::optional<std::int64_t>(**v + 1) : std::nullopt);
    return wake;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<Fired>>> ReminderStore::fire(std::string owner, const std::vector<Claim>& claims,
                                                                std::int64_t now_ms, std::int64_t lease_ms,
                                                                std::vector<Delivery> delivered) {
  auto job = [owner = std::move(owner), &claims, now_ms, lease_ms,
              delivered = std::move(delivered)](Connection& c) -> Result<std::vector<Fired>> {
    record_in(c, delivered, "live", owner);
    std::vector<Fired> out;
    out.reserve(claims.size());
    // The common case in one statement: still ours and planned, the appointment as it
    // was when claimed (same version, upcoming), the client has not opted out and the
    // practice still shows (or hides) the therapist as then: sent, rendered from the
    // claim. Anything else is looked at row by row below.
    constexpr std::string_view kSendAsClaimed =
        "UPDATE reminders SET state = 'sent', sent_ms = ?4, lease_until_ms = ?5 "
        "WHERE id = ?1 AND fence = ?2 AND lease_owner = ?3 AND state = 'planned' "
        "AND EXISTS (SELECT 1 FROM appointments a WHERE a.id = reminders.appointment_id AND a.version = ?6 "
        "AND a.start_ms > ?4 AND a.status IN ('booked', 'confirmed')) "
        "AND NOT EXISTS (SELECT 1 FROM preferences p WHERE p.user_id = reminders.client_id AND p.enabled = 0) "
        "AND (SELECT COALESCE(MAX(show_therapist), 0) FROM policies p WHERE p.practice_id = reminders.practice_id) = ?7";
    const std::string select =
        sql("SELECT r.state, r.fence, r.lease_owner, r.pushed_ms, COALESCE(pref.enabled, 1), "
            "COALESCE(p.show_therapist, 0), ",
            kAppointmentColumns,
            " FROM reminders r JOIN appointments a ON a.id = r.appointment_id "
            "LEFT JOIN preferences pref ON pref.user_id = r.client_id "
            "LEFT JOIN policies p ON p.practice_id = r.practice_id WHERE r.id = ?");
    for (const auto& claim : claims) {
      const auto& id = claim.reminder.id;
      const auto fence = claim.fence;
      Fired f;
      f.reminder_id = id;
      if (!claim.resend && execute(c, kSendAsClaimed, id, fence, owner, now_ms, now_ms + lease_ms,
                                   claim.appointment.version, claim.show_therapist_name ? 1 : 0) == 1) {
        f.outcome = Fired::Outcome::kSent;
        f.appointment = claim.appointment;
        f.show_therapist_name = claim.show_therapist_name;
        out.push_back(std::move(f));
        continue;
      }
      auto row = query_one(
          c, select,
          [&](Statement& s) {
            f.appointment = read_appointment(s, 6);
            f.show_therapist_name = s.column_int(5) != 0;
            return std::tuple<std::string, std::int64_t, std::string, std::int64_t, bool>{
                s.column_text(0), s.column_int(1), s.column_text(2), s.column_int(3), s.column_int(4) != 0};
          },
          id);
      if (!row || std::get<1>(*row) != fence || std::get<2>(*row) != owner) {
        out.push_back(std::move(f));  // kLost
        continue;
      }
      const auto& [state, f_, o_, pushed_ms, enabled] = *row;
      if (state == "planned") {
        if (f.appointment.start_ms <= now_ms || !is_active(f.appointment.status)) {
          execute(c, "UPDATE reminders SET state = 'expired', expired_ms = ?2 WHERE id = ?1", id, now_ms);
          f.outcome = Fired::Outcome::kExpired;
        } else if (!enabled) {
          execute(c,
                  "UPDATE reminders SET state = 'cancelled', cancel_reason = 'opted_out', cancelled_ms = ?2 "
                  "WHERE id = ?1",
                  id, now_ms);
          f.outcome = Fired::Outcome::kOptedOut;
        } else {
          execute(c, "UPDATE reminders SET state = 'sent', sent_ms = ?2, lease_until_ms = ?3 WHERE id = ?1", id,
                  now_ms, now_ms + lease_ms);
          f.outcome = Fired::Outcome::kSent;
        }
      } else if (state == "sent" && pushed_ms == 0) {
        execute(c, "UPDATE reminders SET lease_until_ms = ?2 WHERE id = ?1", id, now_ms + lease_ms);
        f.outcome = Fired::Outcome::kResend;
      }
      out.push_back(std::move(f));
    }
    return out;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Status> ReminderStore::record_deliveries(std::vector<Delivery> delivered, std::string kind,
                                                         std::string instance) {
  auto job = [delivered = std::move(delivered), kind = std::move(kind), instance = std::move(instance)](
                 Connection& c) -> Status {
    record_in(c, delivered, kind, instance);
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<int>> ReminderStore::expire_started(std::int64_t now_ms) {
  co_return co_await db_->write([now_ms](Connection& c) -> Result<int> {
    return execute(c,
                   "UPDATE reminders SET state = 'expired', expired_ms = ?1 "
                   "WHERE state IN ('planned', 'sent') AND start_ms <= ?1",
                   now_ms);
  });
}

asio::awaitable<Result<std::vector<PendingReminder>>> ReminderStore::pending_for(std::string client_id,
                                                                                 std::int64_t now_ms) {
  auto job = [client_id = std::move(client_id), now_ms](Connection& c) -> Result<std::vector<PendingReminder>> {
    const std::string select =
        sql("SELECT ", kReminderColumns, ", COALESCE(p.show_therapist, 0), ",
            sql(kAppointmentColumns,
                " FROM reminders r JOIN appointments a ON a.id = r.appointment_id "
                "LEFT JOIN policies p ON p.practice_id = r.practice_id "
                "LEFT JOIN preferences pref ON pref.user_id = r.client_id "
                "WHERE r.client_id = ?1 AND r.state = 'sent' AND a.start_ms > ?2 "
                "AND a.status IN ('booked', 'confirmed') AND COALESCE(pref.enabled, 1) = 1 "
                "ORDER BY r.due_ms LIMIT 100"));
    return query_all(
        c, select,
        [](Statement& s) {
          PendingReminder p;
          p.reminder = read_reminder(s);
          p.show_therapist_name = s.column_int(kReminderColumnCount) != 0;
          p.appointment = read_appointment(s, kReminderColumnCount + 1);
          return p;
        },
        client_id, now_ms);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<ReminderRow>> ReminderStore::acknowledge(std::string client_id, std::string reminder_id,
                                                                std::int64_t now_ms) {
  auto job = [client_id = std::move(client_id), reminder_id = std::move(reminder_id),
              now_ms](Connection& c) -> Result<ReminderRow> {
    const std::string select = sql("SELECT ", kReminderColumns, " FROM reminders r WHERE r.id = ?");
    auto row = query_one(c, select, [](Statement& s) { return read_reminder(s); }, reminder_id);
    if (!row || row->client_id != client_id)
      return Error{Code::kNotFound, "reminder_id: no such reminder", "reminder_id"};
    if (row->state == "acknowledged") return std::move(*row);
    if (row->state != "sent")
      return Error{Code::kFailedPrecondition, "reminder_id: the reminder is " + row->state, "reminder_id"};
    execute(c, "UPDATE reminders SET state = 'acknowledged', acked_ms = ?2 WHERE id = ?1", reminder_id, now_ms);
    row->state = "acknowledged";
    row->acked_ms = now_ms;
    return std::move(*row);
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<AppointmentRow>>> ReminderStore::find_appointment(std::string appointment_id) {
  auto job = [id = std::move(appointment_id)](Connection& c) -> Result<std::optional<AppointmentRow>> {
    return query_one(c, sql("SELECT ", kAppointmentColumns, " FROM appointments a WHERE a.id = ?"),
                     [](Statement& s) { return read_appointment(s); }, id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<ReminderRow>>> ReminderStore::reminders_of(std::string appointment_id) {
  auto job = [id = std::move(appointment_id)](Connection& c) -> Result<std::vector<ReminderRow>> {
    return query_all(c,
                     sql("SELECT ", kReminderColumns,
                         " FROM reminders r WHERE r.appointment_id = ? ORDER BY r.start_ms, r.due_ms, r.created_ms"),
                     [](Statement& s) { return read_reminder(s); }, id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<PolicyRow>> ReminderStore::policy(std::string practice_id) {
  auto job = [id = std::move(practice_id)](Connection& c) -> Result<PolicyRow> { return policy_of(c, id); };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<int>> ReminderStore::set_policy(PolicyRow row, std::int64_t now_ms) {
  auto job = [row = std::move(row), now_ms](Connection& c) -> Result<int> {
    std::string overrides;
    for (const auto& [type, offsets] : row.policy.type_offsets) {
      if (!overrides.empty()) overrides += ';';
      overrides += type + ":" + join_offsets(offsets);
    }
    const auto& q = row.policy.quiet;
    execute(c,
            "INSERT INTO policies (practice_id, offsets, type_offsets, quiet_start, quiet_end, show_therapist, "
            "updated_by, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(practice_id) DO UPDATE SET "
            "offsets = ?2, type_offsets = ?3, quiet_start = ?4, quiet_end = ?5, show_therapist = ?6, "
            "updated_by = ?7, updated_ms = ?8",
            row.practice_id, join_offsets(row.policy.offsets_minutes), overrides,
            q ? format_hhmm(q->start_minute) : std::string(), q ? format_hhmm(q->end_minute) : std::string(),
            row.policy.show_therapist_name ? 1 : 0, row.updated_by, now_ms);
    // Plan the practice's upcoming appointments again.
    auto upcoming = query_all(c,
                              sql("SELECT ", kAppointmentColumns,
                                  " FROM appointments a WHERE a.practice_id = ?1 AND a.start_ms > ?2 "
                                  "AND a.status IN ('booked', 'confirmed')"),
                              [](Statement& s) { return read_appointment(s); }, row.practice_id, now_ms);
    int changed = 0;
    for (const auto& a : upcoming) {
      auto existing = query_all(c,
                                "SELECT id, offset_minutes, due_ms, state FROM reminders "
                                "WHERE appointment_id = ?1 AND start_ms = ?2 AND state <> 'cancelled'",
                                [](Statement& s) {
                                  return std::tuple<std::string, int, std::int64_t, std::string>{
                                      s.column_text(0), static_cast<int>(s.column_int(1)), s.column_int(2),
                                      s.column_text(3)};
                                },
                                a.id, a.start_ms);
      auto wanted = plan_reminders(row.policy, a.type_id, as_time(a.start_ms), find_zone(a.client_zone),
                                   as_time(now_ms));
      std::set<std::pair<int, std::int64_t>> keep;
      std::set<int> done_offsets;
      for (const auto& [id, offset, due, state] : existing)
        if (state != "planned") done_offsets.insert(offset);
      for (const auto& w : wanted) keep.insert({w.offset_minutes, as_ms(w.due)});
      std::set<std::pair<int, std::int64_t>> have;
      for (const auto& [id, offset, due, state] : existing) {
        if (state != "planned") continue;
        if (keep.contains({offset, due})) {
          have.insert({offset, due});
        } else {
          changed += execute(c,
                             "UPDATE reminders SET state = 'cancelled', cancel_reason = 'policy_changed', "
                             "cancelled_ms = ?2 WHERE id = ?1 AND state = 'planned'",
                             id, now_ms);
        }
      }
      for (const auto& w : wanted) {
        if (have.contains({w.offset_minutes, as_ms(w.due)}) || done_offsets.contains(w.offset_minutes)) continue;
        insert_reminder(c, a, w, now_ms);
        ++changed;
      }
    }
    return changed;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::pair<bool, std::int64_t>>> ReminderStore::preference(std::string user_id) {
  auto job = [id = std::move(user_id)](Connection& c) -> Result<std::pair<bool, std::int64_t>> {
    auto row = query_one(c, "SELECT enabled, updated_ms FROM preferences WHERE user_id = ?",
                         [](Statement& s) { return std::pair<bool, std::int64_t>{s.column_int(0) != 0, s.column_int(1)}; },
                         id);
    return row.value_or(std::pair<bool, std::int64_t>{true, 0});
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Status> ReminderStore::set_preference(std::string user_id, bool enabled, std::int64_t now_ms) {
  auto job = [id = std::move(user_id), enabled, now_ms](Connection& c) -> Status {
    execute(c,
            "INSERT INTO preferences (user_id, enabled, updated_ms) VALUES (?1, ?2, ?3) "
            "ON CONFLICT(user_id) DO UPDATE SET enabled = ?2, updated_ms = ?3",
            id, enabled ? 1 : 0, now_ms);
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

}  // namespace alliance::reminders
