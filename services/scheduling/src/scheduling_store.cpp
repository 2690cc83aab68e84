#include "scheduling_store.hpp"

#include <sqlite3.h>

#include <algorithm>

#include "alliance/core/ids.hpp"
#include "scheduling_proto.hpp"

// Each job lambda is named before the co_await: g++ 12 mishandles a lambda with
// non-trivial captures built inside a co_await expression (freed twice).

namespace alliance::scheduling {
namespace {

using store::Connection;
using store::Statement;

// Times are unix seconds. An appointment blocks [start - buffer_before, end +
// buffer_after) against other appointments' own [start, end), and its own [start,
// end) against their buffered windows (domain/slots.hpp), so buffers may touch or
// overlap each other but never another session. Durations (<= 1 day) and buffers
// (<= 1 day) are bounded by CHECKs, so the triggers can narrow the index scan on
// (therapist_id, start_unix) to start times within 3 days of the new row.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE appointment_types (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  name TEXT NOT NULL,
  duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
  modality TEXT NOT NULL CHECK (modality IN ('in_person', 'telehealth')),
  buffer_before_minutes INTEGER NOT NULL CHECK (buffer_before_minutes BETWEEN 0 AND 1440),
  buffer_after_minutes INTEGER NOT NULL CHECK (buffer_after_minutes BETWEEN 0 AND 1440),
  min_notice_minutes INTEGER NOT NULL,
  booking_horizon_days INTEGER NOT NULL,
  client_self_booking INTEGER NOT NULL,
  step_minutes INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  created_unix_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX appointment_types_practice_name ON appointment_types(practice_id, name);

CREATE TABLE availability (
  therapist_id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_unix_ms INTEGER NOT NULL
);
CREATE TABLE availability_weekly (
  therapist_id TEXT NOT NULL REFERENCES availability(therapist_id) ON DELETE CASCADE,
  weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
  start_minute INTEGER NOT NULL,
  end_minute INTEGER NOT NULL,
  CHECK (0 <= start_minute AND start_minute < end_minute AND end_minute <= 1440)
);
CREATE INDEX availability_weekly_therapist ON availability_weekly(therapist_id);
CREATE TABLE availability_extra (
  therapist_id TEXT NOT NULL REFERENCES availability(therapist_id) ON DELETE CASCADE,
  local_date TEXT NOT NULL,
  start_minute INTEGER NOT NULL,
  end_minute INTEGER NOT NULL,
  CHECK (0 <= start_minute AND start_minute < end_minute AND end_minute <= 1440)
);
CREATE INDEX availability_extra_therapist ON availability_extra(therapist_id);
CREATE TABLE availability_time_off (
  therapist_id TEXT NOT NULL REFERENCES availability(therapist_id) ON DELETE CASCADE,
  first_date TEXT NOT NULL,
  last_date TEXT NOT NULL,
  CHECK (first_date <= last_date)
);
CREATE INDEX availability_time_off_therapist ON availability_time_off(therapist_id);

CREATE TABLE appointments (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  therapist_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  type_id TEXT NOT NULL REFERENCES appointment_types(id),
  start_unix INTEGER NOT NULL,
  end_unix INTEGER NOT NULL,
  buffer_before_s INTEGER NOT NULL CHECK (buffer_before_s BETWEEN 0 AND 86400),
  buffer_after_s INTEGER NOT NULL CHECK (buffer_after_s BETWEEN 0 AND 86400),
  status TEXT NOT NULL CHECK (status IN ('booked', 'confirmed', 'cancelled', 'completed', 'no_show')),
  version INTEGER NOT NULL CHECK (version >= 1),
  series_id TEXT,
  cancel_reason TEXT NOT NULL DEFAULT '',
  late_cancellation INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  updated_unix_ms INTEGER NOT NULL,
  cancelled_by TEXT NOT NULL DEFAULT '',
  cancelled_unix_ms INTEGER NOT NULL DEFAULT 0,
  time_zone TEXT NOT NULL,
  type_name TEXT NOT NULL,
  modality TEXT NOT NULL,
  CHECK (end_unix > start_unix AND end_unix - start_unix <= 86400)
);
CREATE INDEX appointments_therapist_start ON appointments(therapist_id, start_unix);
CREATE INDEX appointments_client_start ON appointments(client_id, start_unix);
CREATE INDEX appointments_practice_start ON appointments(practice_id, start_unix);
CREATE INDEX appointments_series ON appointments(series_id, start_unix) WHERE series_id IS NOT NULL;
-- Freed time (the waitlist's trigger): cancellations of a therapist, newest first.
CREATE INDEX appointments_cancelled ON appointments(therapist_id, cancelled_unix_ms)
  WHERE status = 'cancelled';

CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments
WHEN NEW.status IN ('booked', 'confirmed') AND EXISTS (
  SELECT 1 FROM appointments a
  WHERE a.therapist_id = NEW.therapist_id AND a.status IN ('booked', 'confirmed') AND a.id <> NEW.id
    AND a.start_unix > NEW.start_unix - 259200 AND a.start_unix < NEW.end_unix + 259200
    AND ((NEW.start_unix - NEW.buffer_before_s < a.end_unix AND a.start_unix < NEW.end_unix + NEW.buffer_after_s)
      OR (a.start_unix - a.buffer_before_s < NEW.end_unix AND NEW.start_unix < a.end_unix + a.buffer_after_s)))
BEGIN
  SELECT RAISE(ABORT, 'start_time: overlaps another appointment or its buffer');
END;

CREATE TRIGGER appointments_no_overlap_update
BEFORE UPDATE OF therapist_id, start_unix, end_unix, buffer_before_s, buffer_after_s, status ON appointments
WHEN NEW.status IN ('booked', 'confirmed') AND EXISTS (
  SELECT 1 FROM appointments a
  WHERE a.therapist_id = NEW.therapist_id AND a.status IN ('booked', 'confirmed') AND a.id <> NEW.id
    AND a.start_unix > NEW.start_unix - 259200 AND a.start_unix < NEW.end_unix + 259200
    AND ((NEW.start_unix - NEW.buffer_before_s < a.end_unix AND a.start_unix < NEW.end_unix + NEW.buffer_after_s)
      OR (a.start_unix - a.buffer_before_s < NEW.end_unix AND NEW.start_unix < a.end_unix + a.buffer_after_s)))
BEGIN
  SELECT RAISE(ABORT, 'start_time: overlaps another appointment or its buffer');
END;

CREATE TABLE appointment_history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  appointment_id TEXT NOT NULL REFERENCES appointments(id),
  version INTEGER NOT NULL,
  action TEXT NOT NULL,
  actor_user_id TEXT NOT NULL,
  at_unix_ms INTEGER NOT NULL,
  start_unix INTEGER NOT NULL,
  status TEXT NOT NULL
);
CREATE INDEX appointment_history_appointment ON appointment_history(appointment_id, seq);

CREATE TABLE idempotency_keys (
  caller_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash BLOB NOT NULL,
  appointment_id TEXT,
  series_id TEXT,
  response BLOB,
  created_unix_ms INTEGER NOT NULL,
  PRIMARY KEY (caller_id, key)
);

CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  appointment_id TEXT NOT NULL,
  payload BLOB NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  sent_unix_ms INTEGER
);
CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent_unix_ms IS NULL;
)sql";

constexpr std::string_view kAppointmentColumns =
    "id, practice_id, therapist_id, client_id, type_id, start_unix, end_unix, buffer_before_s, buffer_after_s, "
    "status, version, series_id, cancel_reason, late_cancellation, created_by, created_unix_ms, updated_by, "
    "updated_unix_ms, cancelled_by, cancelled_unix_ms, time_zone, type_name, modality";

std::string select_appointments(std::string_view where) {
  return "SELECT " + std::string(kAppointmentColumns) + " FROM appointments " + std::string(where);
}

Appointment read_appointment(const Statement& st) {
  Appointment a;
  a.id = st.column_text(0);
  a.practice_id = st.column_text(1);
  a.therapist_id = st.column_text(2);
  a.client_id = st.column_text(3);
  a.type_id = st.column_text(4);
  a.start = from_unix(st.column_int(5));
  a.end = from_unix(st.column_int(6));
  a.buffer_before_minutes = static_cast<int>(st.column_int(7) / 60);
  a.buffer_after_minutes = static_cast<int>(st.column_int(8) / 60);
  a.status = parse_status(st.column_text(9)).value_or(AppointmentStatus::kCancelled);
  a.version = st.column_int(10);
  a.series_id = st.column_text(11);
  a.cancel_reason = st.column_text(12);
  a.late_cancellation = st.column_int(13) != 0;
  a.created_by = st.column_text(14);
  a.created_unix_ms = st.column_int(15);
  a.updated_by = st.column_text(16);
  a.updated_unix_ms = st.column_int(17);
  a.cancelled_by = st.column_text(18);
  a.cancelled_unix_ms = st.column_int(19);
  a.time_zone = st.column_text(20);
  a.type_name = st.column_text(21);
  a.modality = st.column_text(22);
  return a;
}

std::optional<Appointment> load_appointment(Connection& c, const std::string& id) {
  static const std::string sql = select_appointments("WHERE id = ?1");
  auto& st = c.prepare(sql);
  st.bind(1, std::string_view(id));
  if (!st.step()) return std::nullopt;
  return read_appointment(st);
}

// A refused overlap from the trigger becomes the same answer the code check gives;
// every other StoreError goes on to the Database's own mapping.
template <class F>
auto overlap_guard(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const store::StoreError& e) {
    if ((e.code() & 0xff) == SQLITE_CONSTRAINT &&
        std::string_view(e.what()).find("overlaps another appointment") != std::string_view::npos)
      return Error{Code::kAlreadyExists, std::string(kOverlapMessage), "start_time"};
    throw;
  }
}

// Booked/confirmed rows of the therapist near [start, end), except `exclude_id`.
std::vector<Booked> blocking_near(Connection& c, const std::string& therapist_id, Instant start, Instant end,
                                  const std::string& exclude_id) {
  auto& st = c.prepare(
      "SELECT start_unix, end_unix, buffer_before_s, buffer_after_s FROM appointments "
      "WHERE therapist_id = ?1 AND status IN ('booked', 'confirmed') AND id <> ?2 "
      "AND start_unix > ?3 - 259200 AND start_unix < ?4 + 259200");
  st.bind(1, std::string_view(therapist_id));
  st.bind(2, std::string_view(exclude_id));
  st.bind(3, to_unix(start));
  st.bind(4, to_unix(end));
  std::vector<Booked> out;
  while (st.step())
    out.push_back(Booked{from_unix(st.column_int(0)), from_unix(st.column_int(1)),
                         std::chrono::minutes(st.column_int(2) / 60), std::chrono::minutes(st.column_int(3) / 60)});
  return out;
}

bool overlaps_stored(Connection& c, const Appointment& a) {
  auto near = blocking_near(c, a.therapist_id, a.start, a.end, a.id);
  return conflicts(near, a.start, a.end, std::chrono::minutes(a.buffer_before_minutes),
                   std::chrono::minutes(a.buffer_after_minutes));
}

void insert_appointment(Connection& c, const Appointment& a) {
  static const std::string sql = "INSERT INTO appointments (" + std::string(kAppointmentColumns) +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                                 "?17, ?18, ?19, ?20, ?21, ?22, ?23)";
  auto& st = c.prepare(sql);
  std::optional<std::string_view> series;
  if (!a.series_id.empty()) series = a.series_id;
  st.bind_all(a.id, a.practice_id, a.therapist_id, a.client_id, a.type_id, to_unix(a.start), to_unix(a.end),
              std::int64_t{a.buffer_before_minutes} * 60, std::int64_t{a.buffer_after_minutes} * 60,
              status_name(a.status), a.version, series, a.cancel_reason, a.late_cancellation ? 1 : 0, a.created_by,
              a.created_unix_ms, a.updated_by, a.updated_unix_ms, a.cancelled_by, a.cancelled_unix_ms,
              a.time_zone, a.type_name, a.modality);
  st.step();
}

void update_appointment(Connection& c, const Appointment& a) {
  auto& st = c.prepare(
      "UPDATE appointments SET start_unix = ?2, end_unix = ?3, status = ?4, version = ?5, cancel_reason = ?6, "
      "late_cancellation = ?7, updated_by = ?8, updated_unix_ms = ?9, cancelled_by = ?10, "
      "cancelled_unix_ms = ?11 WHERE id = ?1");
  st.bind_all(a.id, to_unix(a.start), to_unix(a.end), status_name(a.status), a.version, a.cancel_reason,
              a.late_cancellation ? 1 : 0, a.updated_by, a.updated_unix_ms, a.cancelled_by, a.cancelled_unix_ms);
  st.step();
}

// History line + outbox event for a change already written, same transaction.
void record_change(Connection& c, const Appointment& a, std::string_view action, const std::string& actor,
                   std::int64_t now_ms, std::optional<Instant> previous_start) {
  auto& h = c.prepare(
      "INSERT INTO appointment_history (appointment_id, version, action, actor_user_id, at_unix_ms, start_unix, "
      "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  h.bind_all(a.id, a.version, action, actor, now_ms, to_unix(a.start), status_name(a.status));
  h.step();
  auto event = encode_event(action, a, actor, now_ms, previous_start);
  auto& o = c.prepare(
      "INSERT INTO outbox (event_id, appointment_id, payload, created_unix_ms) VALUES (?1, ?2, ?3, ?4)");
  o.bind_all(event.event_id, a.id, store::Blob{event.payload}, now_ms);
  o.step();
}

std::optional<IdempotencyRecord> load_idempotency(Connection& c, const std::string& caller,
                                                  const std::string& key) {
  auto& st = c.prepare(
      "SELECT request_hash, appointment_id, series_id, response FROM idempotency_keys "
      "WHERE caller_id = ?1 AND key = ?2");
  st.bind_all(caller, key);
  if (!st.step()) return std::nullopt;
  return IdempotencyRecord{caller, key, st.column_blob(0), st.column_text(1), st.column_text(2),
                           st.column_blob(3)};
}

AppointmentType read_type(const Statement& st) {
  AppointmentType t;
  t.id = st.column_text(0);
  t.practice_id = st.column_text(1);
  t.name = st.column_text(2);
  t.duration_minutes = static_cast<int>(st.column_int(3));
  t.modality = st.column_text(4);
  t.buffer_before_minutes = static_cast<int>(st.column_int(5));
  t.buffer_after_minutes = static_cast<int>(st.column_int(6));
  t.min_notice_minutes = static_cast<int>(st.column_int(7));
  t.booking_horizon_days = static_cast<int>(st.column_int(8));
  t.client_self_booking = st.column_int(9) != 0;
  t.step_minutes = static_cast<int>(st.column_int(10));
  t.created_by = st.column_text(11);
  t.created_unix_ms = st.column_int(12);
  return t;
}

constexpr std::string_view kTypeColumns =
    "id, practice_id, name, duration_minutes, modality, buffer_before_minutes, buffer_after_minutes, "
    "min_notice_minutes, booking_horizon_days, client_self_booking, step_minutes, created_by, created_unix_ms";

date::year_month_day date_column(const Statement& st, int i) {
  auto d = parse_date(st.column_text(i), "date");
  return d ? *d : date::year_month_day{};
}

}  // namespace

Result<std::unique_ptr<SchedulingStore>> SchedulingStore::open(const std::filesystem::path& path) {
  store::DatabaseOptions options;
  options.path = path;
  options.migrations = {store::Migration{1, kSchemaV1}};
  auto db = store::Database::open(std::move(options));
  if (!db) return std::move(db).error();
  return std::make_unique<SchedulingStore>(std::move(*db));
}

SchedulingStore::SchedulingStore(std::unique_ptr<store::Database> db) : db_(std::move(db)) {}

asio::awaitable<Status> SchedulingStore::create_type(AppointmentType t) {
  auto job = [t = std::move(t)](Connection& c) -> Status {
    auto& taken = c.prepare("SELECT 1 FROM appointment_types WHERE practice_id = ?1 AND name = ?2");
    taken.bind_all(t.practice_id, t.name);
    if (taken.step())
      return Error{Code::kAlreadyExists, "name: the practice already has an appointment type with this name",
                   "name"};
    static const std::string sql = "INSERT INTO appointment_types (" + std::string(kTypeColumns) +
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
    auto& st = c.prepare(sql);
    st.bind_all(t.id, t.practice_id, t.name, t.duration_minutes, t.modality, t.buffer_before_minutes,
                t.buffer_after_minutes, t.min_notice_minutes, t.booking_horizon_days, t.client_self_booking ? 1 : 0,
                t.step_minutes, t.created_by, t.created_unix_ms);
    st.step();
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<AppointmentType>>> SchedulingStore::find_type(std::string type_id) {
  auto job = [type_id = std::move(type_id)](Connection& c) -> Result<std::optional<AppointmentType>> {
    static const std::string sql = "SELECT " + std::string(kTypeColumns) + " FROM appointment_types WHERE id = ?1";
    auto& st = c.prepare(sql);
    st.bind(1, std::string_view(type_id));
    if (!st.step()) return std::optional<AppointmentType>();
    return std::optional<AppointmentType>(read_type(st));
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<AppointmentType>>> SchedulingStore::list_types(std::string practice_id) {
  auto job = [practice_id = std::move(practice_id)](Connection& c) -> Result<std::vector<AppointmentType>> {
    static const std::string sql = "SELECT " + std::string(kTypeColumns) +
                                   " FROM appointment_types WHERE practice_id = ?1 ORDER BY name, id";
    auto& st = c.prepare(sql);
    st.bind(1, std::string_view(practice_id));
    std::vector<AppointmentType> out;
    while (st.step()) out.push_back(read_type(st));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Status> SchedulingStore::set_availability(TherapistAvailability a) {
  auto job = [a = std::move(a)](Connection& c) -> Status {
    auto& del = c.prepare("DELETE FROM availability WHERE therapist_id = ?1");
    del.bind(1, std::string_view(a.therapist_id));
    del.step();
    auto& ins = c.prepare(
        "INSERT INTO availability (therapist_id, practice_id, time_zone, updated_by, updated_unix_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    ins.bind_all(a.therapist_id, a.practice_id, a.availability.time_zone, a.updated_by, a.updated_unix_ms);
    ins.step();
    for (const auto& w : a.availability.weekly) {
      auto& st = c.prepare(
          "INSERT INTO availability_weekly (therapist_id, weekday, start_minute, end_minute) VALUES (?1, ?2, ?3, ?4)");
      st.bind_all(a.therapist_id, w.weekday, w.interval.start_minute, w.interval.end_minute);
      st.step();
    }
    for (const auto& e : a.availability.extra) {
      auto& st = c.prepare(
          "INSERT INTO availability_extra (therapist_id, local_date, start_minute, end_minute) "
          "VALUES (?1, ?2, ?3, ?4)");
      st.bind_all(a.therapist_id, format_date(e.date), e.interval.start_minute, e.interval.end_minute);
      st.step();
    }
    for (const auto& t : a.availability.time_off) {
      auto& st = c.prepare(
          "INSERT INTO availability_time_off (therapist_id, first_date, last_date) VALUES (?1, ?2, ?3)");
      st.bind_all(a.therapist_id, format_date(t.first), format_date(t.last));
      st.step();
    }
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<TherapistAvailability>>> SchedulingStore::find_availability(
    std::string therapist_id) {
  auto job = [therapist_id = std::move(therapist_id)](Connection& c) -> Result<std::optional<TherapistAvailability>> {
    auto& st = c.prepare(
        "SELECT practice_id, time_zone, updated_by, updated_unix_ms FROM availability WHERE therapist_id = ?1");
    st.bind(1, std::string_view(therapist_id));
    if (!st.step()) return std::optional<TherapistAvailability>();
    TherapistAvailability a;
    a.therapist_id = therapist_id;
    a.practice_id = st.column_text(0);
    a.availability.time_zone = st.column_text(1);
    a.updated_by = st.column_text(2);
    a.updated_unix_ms = st.column_int(3);
    auto& w = c.prepare(
        "SELECT weekday, start_minute, end_minute FROM availability_weekly WHERE therapist_id = ?1 "
        "ORDER BY weekday, start_minute");
    w.bind(1, std::string_view(therapist_id));
    while (w.step())
      a.availability.weekly.push_back(WeeklyHours{static_cast<int>(w.column_int(0)),
                                                  LocalInterval{static_cast<int>(w.column_int(1)),
                                                                static_cast<int>(w.column_int(2))}});
    auto& e = c.prepare(
        "SELECT local_date, start_minute, end_minute FROM availability_extra WHERE therapist_id = ?1 "
        "ORDER BY local_date, start_minute");
    e.bind(1, std::string_view(therapist_id));
    while (e.step())
      a.availability.extra.push_back(ExtraHours{
          date_column(e, 0), LocalInterval{static_cast<int>(e.column_int(1)), static_cast<int>(e.column_int(2))}});
    auto& t = c.prepare(
        "SELECT first_date, last_date FROM availability_time_off WHERE therapist_id = ?1 ORDER BY first_date");
    t.bind(1, std::string_view(therapist_id));
    while (t.step()) a.availability.time_off.push_back(TimeOff{date_column(t, 0), date_column(t, 1)});
    return std::optional<TherapistAvailability>(std::move(a));
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<Appointment>>> SchedulingStore::find_appointment(std::string id) {
  auto job = [id = std::move(id)](Connection& c) -> Result<std::optional<Appointment>> {
    return load_appointment(c, id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<Booked>>> SchedulingStore::blocking(std::string therapist_id, Instant from,
                                                                      Instant to, std::string exclude_id) {
  auto job = [therapist_id = std::move(therapist_id), from, to,
              exclude_id = std::move(exclude_id)](Connection& c) -> Result<std::vector<Booked>> {
    return blocking_near(c, therapist_id, from, to, exclude_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<Appointment>>> SchedulingStore::list_appointments(AppointmentQuery q) {
  auto job = [q = std::move(q)](Connection& c) -> Result<std::vector<Appointment>> {
    static const std::string sql = select_appointments(
        "WHERE practice_id = ?1 AND start_unix >= ?2 AND start_unix < ?3 AND (?4 IS NULL OR therapist_id = ?4) "
        "AND (?5 IS NULL OR client_id = ?5) AND (?6 IS NULL OR status = ?6) ORDER BY start_unix, id LIMIT ?7");
    auto& st = c.prepare(sql);
    std::optional<std::string_view> status;
    if (q.status) status = status_name(*q.status);
    st.bind_all(q.practice_id, to_unix(q.from), to_unix(q.to), q.therapist_id, q.client_id, status, q.limit + 1);
    std::vector<Appointment> out;
    while (st.step()) out.push_back(read_appointment(st));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<Appointment>>> SchedulingStore::series_appointments(std::string series_id) {
  auto job = [series_id = std::move(series_id)](Connection& c) -> Result<std::vector<Appointment>> {
    static const std::string sql = select_appointments("WHERE series_id = ?1 ORDER BY start_unix, id");
    auto& st = c.prepare(sql);
    st.bind(1, std::string_view(series_id));
    std::vector<Appointment> out;
    while (st.step()) out.push_back(read_appointment(st));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<HistoryEntry>>> SchedulingStore::history(std::string appointment_id) {
  auto job = [appointment_id = std::move(appointment_id)](Connection& c) -> Result<std::vector<HistoryEntry>> {
    auto& st = c.prepare(
        "SELECT version, action, actor_user_id, at_unix_ms FROM appointment_history WHERE appointment_id = ?1 "
        "ORDER BY seq");
    st.bind(1, std::string_view(appointment_id));
    std::vector<HistoryEntry> out;
    while (st.step())
      out.push_back(HistoryEntry{appointment_id, st.column_int(0), st.column_text(1), st.column_text(2),
                                 st.column_int(3)});
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<IdempotencyRecord>>> SchedulingStore::find_idempotency(std::string caller_id,
                                                                                            std::string key) {
  auto job = [caller_id = std::move(caller_id),
              key = std::move(key)](Connection& c) -> Result<std::optional<IdempotencyRecord>> {
    return load_idempotency(c, caller_id, key);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<BookingOutcome>> SchedulingStore::book(BookingRequest request, std::string actor) {
  auto job = [request = std::move(request), actor = std::move(actor)](Connection& c) -> Result<BookingOutcome> {
    return overlap_guard([&]() -> Result<BookingOutcome> {
      const auto& idem = request.idempotency;
      BookingOutcome out;
      if (auto seen = load_idempotency(c, idem.caller_id, idem.key)) {
        if (seen->request_hash != idem.request_hash)
          return Error{Code::kAlreadyExists,
                       "idempotency_key: already used for a different request; use a new key",
                       "idempotency_key"};
        out.replay = std::move(*seen);
        return out;
      }
      const auto now_ms = now_unix_ms();
      for (const auto& candidate : request.candidates) {
        if (overlaps_stored(c, candidate)) {
          if (request.all_or_nothing)
            return Error{Code::kAlreadyExists, std::string(kOverlapMessage), "start_time"};
          out.booked.emplace_back(std::nullopt);
          continue;
        }
        insert_appointment(c, candidate);
        record_change(c, candidate, "booked", actor, now_ms, std::nullopt);
        out.booked.emplace_back(candidate);
      }
      std::string response = request.encode_response ? request.encode_response(out.booked) : std::string();
      std::optional<std::string_view> appointment_id, series_id;
      if (request.candidates.size() == 1 && request.candidates[0].series_id.empty() && out.booked[0])
        appointment_id = out.booked[0]->id;
      if (!request.candidates.empty() && !request.candidates[0].series_id.empty())
        series_id = request.candidates[0].series_id;
      auto& st = c.prepare(
          "INSERT INTO idempotency_keys (caller_id, key, request_hash, appointment_id, series_id, response, "
          "created_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      st.bind_all(idem.caller_id, idem.key, store::Blob{idem.request_hash}, appointment_id, series_id,
                  store::Blob{response}, now_ms);
      st.step();
      return out;
    });
  };
  co_return co_await db_->write(std::move(job));
}

namespace {

// Applies `decide` to `current` and writes the result; shared by modify and modify_series.
Result<Appointment> apply_change(Connection& c, const Appointment& current, const std::string& actor,
                                 const Decide& decide, std::int64_t now_ms) {
  auto change = decide(current);
  if (!change) return std::move(change).error();
  Appointment next = std::move(change->next);
  next.version = current.version + 1;
  next.updated_by = actor;
  next.updated_unix_ms = now_ms;
  const bool moved = next.start != current.start || next.end != current.end;
  if (holds_time(next.status) && (moved || !holds_time(current.status)) && overlaps_stored(c, next))
    return Error{Code::kAlreadyExists, std::string(kOverlapMessage), "start_time"};
  update_appointment(c, next);
  record_change(c, next, change->action, actor, now_ms, change->previous_start);
  return next;
}

}  // namespace

asio::awaitable<Result<Appointment>> SchedulingStore::modify(std::string appointment_id, std::string actor,
                                                             Decide decide) {
  auto job = [appointment_id = std::move(appointment_id), actor = std::move(actor),
              decide = std::move(decide)](Connection& c) -> Result<Appointment> {
    return overlap_guard([&]() -> Result<Appointment> {
      auto current = load_appointment(c, appointment_id);
      if (!current) return Error{Code::kNotFound, "appointment_id: no such appointment", "appointment_id"};
      return apply_change(c, *current, actor, decide, now_unix_ms());
    });
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<Appointment>>> SchedulingStore::modify_series(std::string series_id, Instant from,
                                                                                 std::string actor, Decide decide) {
  auto job = [series_id = std::move(series_id), from, actor = std::move(actor),
              decide = std::move(decide)](Connection& c) -> Result<std::vector<Appointment>> {
    return overlap_guard([&]() -> Result<std::vector<Appointment>> {
      static const std::string sql = select_appointments(
          "WHERE series_id = ?1 AND start_unix >= ?2 AND status IN ('booked', 'confirmed') ORDER BY start_unix");
      std::vector<Appointment> rows;
      {
        auto& st = c.prepare(sql);
        st.bind_all(series_id, to_unix(from));
        while (st.step()) rows.push_back(read_appointment(st));
      }
      const auto now_ms = now_unix_ms();
      std::vector<Appointment> out;
      for (const auto& row : rows) {
        auto next = apply_change(c, row, actor, decide, now_ms);
        if (next) out.push_back(std::move(*next));
      }
      return out;
    });
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<OutboxEntry>>> SchedulingStore::unsent_events(int limit) {
  auto job = [limit](Connection& c) -> Result<std::vector<OutboxEntry>> {
    auto& st = c.prepare(
        "SELECT seq, event_id, payload FROM outbox WHERE sent_unix_ms IS NULL ORDER BY seq LIMIT ?1");
    st.bind(1, std::int64_t{limit});
    std::vector<OutboxEntry> out;
    while (st.step()) out.push_back(OutboxEntry{st.column_int(0), st.column_text(1), st.column_blob(2)});
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Status> SchedulingStore::mark_sent(std::vector<std::int64_t> seqs, std::int64_t now_ms) {
  auto job = [seqs = std::move(seqs), now_ms](Connection& c) -> Status {
    for (auto seq : seqs) {
      auto& st = c.prepare("UPDATE outbox SET sent_unix_ms = ?2 WHERE seq = ?1");
      st.bind_all(seq, now_ms);
      st.step();
    }
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

}  // namespace alliance::scheduling
