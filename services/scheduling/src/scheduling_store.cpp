#include "scheduling_store.hpp"

#include <sqlite3.h>

#include <algorithm>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/wipe.hpp"
#include "alliance/store/query.hpp"
#include "alliance/store/sealed_database.hpp"
#include "scheduling_proto.hpp"

// Each job lambda is named before the co_await: g++ 12 mishandles a lambda with
// non-trivial captures built inside a co_await expression (freed twice).

namespace alliance::scheduling {
namespace {

using store::Blob;
using store::Connection;
using store::execute;
using store::query_all;
using store::query_one;
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

// Migration 2: the waitlist (entries, offers, the holds that block time) and the
// calendar feed tokens. A hold blocks like an appointment with its buffers, for
// everybody but its holder, until it expires: the trigger compares against SQLite's
// wall clock in ms, the code checks against now_unix_ms().
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE waitlist_entries (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  therapist_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  type_id TEXT NOT NULL REFERENCES appointment_types(id),
  first_date TEXT NOT NULL,
  last_date TEXT NOT NULL,
  windows TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'booked', 'left')),
  created_by TEXT NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  CHECK (first_date <= last_date)
);
-- Join order is rowid order (rows are never deleted).
CREATE INDEX waitlist_entries_therapist ON waitlist_entries(therapist_id, status);
CREATE INDEX waitlist_entries_practice ON waitlist_entries(practice_id, status);

CREATE TABLE waitlist_offers (
  id TEXT PRIMARY KEY,
  entry_id TEXT NOT NULL REFERENCES waitlist_entries(id),
  practice_id TEXT NOT NULL,
  therapist_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  type_id TEXT NOT NULL,
  type_name TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  start_unix INTEGER NOT NULL,
  end_unix INTEGER NOT NULL,
  buffer_before_s INTEGER NOT NULL,
  buffer_after_s INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('held', 'accepted', 'declined', 'expired', 'withdrawn')),
  hold_expires_unix_ms INTEGER NOT NULL,
  appointment_id TEXT NOT NULL DEFAULT '',
  created_unix_ms INTEGER NOT NULL,
  closed_unix_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX waitlist_offers_entry_start ON waitlist_offers(entry_id, start_unix);
CREATE INDEX waitlist_offers_client ON waitlist_offers(client_id, created_unix_ms);
CREATE INDEX waitlist_offers_practice ON waitlist_offers(practice_id, created_unix_ms);

CREATE TABLE slot_holds (
  offer_id TEXT PRIMARY KEY REFERENCES waitlist_offers(id),
  therapist_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  start_unix INTEGER NOT NULL,
  end_unix INTEGER NOT NULL,
  buffer_before_s INTEGER NOT NULL,
  buffer_after_s INTEGER NOT NULL,
  expires_unix_ms INTEGER NOT NULL
);
CREATE INDEX slot_holds_therapist_start ON slot_holds(therapist_id, start_unix);
CREATE INDEX slot_holds_expiry ON slot_holds(expires_unix_ms);

CREATE TRIGGER appointments_no_hold_insert BEFORE INSERT ON appointments
WHEN NEW.status IN ('booked', 'confirmed') AND EXISTS (
  SELECT 1 FROM slot_holds h
  WHERE h.therapist_id = NEW.therapist_id AND h.client_id <> NEW.client_id
    AND h.expires_unix_ms > CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)
    AND h.start_unix > NEW.start_unix - 259200 AND h.start_unix < NEW.end_unix + 259200
    AND ((NEW.start_unix - NEW.buffer_before_s < h.end_unix AND h.start_unix < NEW.end_unix + NEW.buffer_after_s)
      OR (h.start_unix - h.buffer_before_s < NEW.end_unix AND NEW.start_unix < h.end_unix + h.buffer_after_s)))
BEGIN
  SELECT RAISE(ABORT, 'start_time: held for a waitlisted client who was offered this time; try another time');
END;

CREATE TRIGGER appointments_no_hold_update
BEFORE UPDATE OF therapist_id, start_unix, end_unix, buffer_before_s, buffer_after_s, status ON appointments
WHEN NEW.status IN ('booked', 'confirmed') AND EXISTS (
  SELECT 1 FROM slot_holds h
  WHERE h.therapist_id = NEW.therapist_id AND h.client_id <> NEW.client_id
    AND h.expires_unix_ms > CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)
    AND h.start_unix > NEW.start_unix - 259200 AND h.start_unix < NEW.end_unix + 259200
    AND ((NEW.start_unix - NEW.buffer_before_s < h.end_unix AND h.start_unix < NEW.end_unix + NEW.buffer_after_s)
      OR (h.start_unix - h.buffer_before_s < NEW.end_unix AND NEW.start_unix < h.end_unix + h.buffer_after_s)))
BEGIN
  SELECT RAISE(ABORT, 'start_time: held for a waitlisted client who was offered this time; try another time');
END;

CREATE TABLE feed_tokens (
  token_sha256 BLOB PRIMARY KEY,
  therapist_id TEXT NOT NULL,
  practice_id TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_unix_ms INTEGER NOT NULL
);
CREATE INDEX feed_tokens_therapist ON feed_tokens(therapist_id) WHERE revoked = 0;
)sql";

// Migration 3: the outbox is the durable event feed (events_since), so published
// rows stay until they are older than the retention; this index finds those.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE INDEX outbox_published_created ON outbox(created_unix_ms) WHERE sent_unix_ms IS NOT NULL;
)sql";

// Migration 4: time blocks. last_end_unix bounds every occurrence's end (NULL: a
// weekly block without end), so overlap checks read only the blocks near a time.
constexpr std::string_view kSchemaV4 = R"sql(
CREATE TABLE time_blocks (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  therapist_id TEXT NOT NULL,
  start_unix INTEGER NOT NULL,
  end_unix INTEGER NOT NULL,
  time_zone TEXT NOT NULL,
  weekly INTEGER NOT NULL CHECK (weekly IN (0, 1)),
  repeat_until TEXT NOT NULL DEFAULT '',
  last_end_unix INTEGER,
  reason TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  CHECK (end_unix > start_unix AND end_unix - start_unix <= 86400)
);
CREATE INDEX time_blocks_therapist_start ON time_blocks(therapist_id, start_unix);
)sql";

// Migration 5: staff notes on appointments, kept apart from the appointment row (and
// so from every event snapshot).
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE appointment_notes (
  appointment_id TEXT PRIMARY KEY REFERENCES appointments(id),
  note TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_unix_ms INTEGER NOT NULL
);
)sql";

// Migration 6: weekly hours that change from a date on (one row per interval).
constexpr std::string_view kSchemaV6 = R"sql(
CREATE TABLE availability_changes (
  therapist_id TEXT NOT NULL REFERENCES availability(therapist_id) ON DELETE CASCADE,
  from_date TEXT NOT NULL,
  weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
  start_minute INTEGER NOT NULL,
  end_minute INTEGER NOT NULL,
  CHECK (0 <= start_minute AND start_minute < end_minute AND end_minute <= 1440)
);
CREATE INDEX availability_changes_therapist ON availability_changes(therapist_id, from_date);
)sql";

// Migration 7: the practice's locations and where an appointment happens. rooms is
// the room names joined by line feeds (a name holds none). A room is double-booked
// when two active appointments at the same location and room overlap in [start, end)
// (buffers are the therapist's, not the room's); the triggers refuse it inside the
// booking's own transaction, as the therapist overlap triggers do.
constexpr std::string_view kSchemaV7 = R"sql(
CREATE TABLE locations (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  rooms TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_unix_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX locations_practice_name ON locations(practice_id, name);
ALTER TABLE appointment_types ADD COLUMN default_location_id TEXT NOT NULL DEFAULT '';
ALTER TABLE appointments ADD COLUMN location_id TEXT NOT NULL DEFAULT '';
ALTER TABLE appointments ADD COLUMN location_name TEXT NOT NULL DEFAULT '';
ALTER TABLE appointments ADD COLUMN location_address TEXT NOT NULL DEFAULT '';
ALTER TABLE appointments ADD COLUMN room TEXT NOT NULL DEFAULT '';
ALTER TABLE appointments ADD COLUMN video_link TEXT NOT NULL DEFAULT '';
CREATE INDEX appointments_room_start ON appointments(location_id, room, start_unix) WHERE room <> '';
)sql";

// Migration 8: editing locations (retired rooms are joined by line feeds as rooms
// are) and the practice's default video link for telehealth appointments.
constexpr std::string_view kSchemaV8 = R"sql(
ALTER TABLE locations ADD COLUMN retired_rooms TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
ALTER TABLE locations ADD COLUMN updated_unix_ms INTEGER NOT NULL DEFAULT 0;
CREATE TABLE practice_video_links (
  practice_id TEXT PRIMARY KEY,
  video_link TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_unix_ms INTEGER NOT NULL
);
)sql";

// Migration 7 with its room triggers, which differ only in their event: one condition
// for both. A session lasts at most a day (CHECK), so only starts within a day before
// the new one's can overlap it.
const std::string& schema_v7() {
  static const std::string sql = [] {
    const std::string when =
        "WHEN NEW.room <> '' AND NEW.status IN ('booked', 'confirmed') AND EXISTS (\n"
        "  SELECT 1 FROM appointments a\n"
        "  WHERE a.location_id = NEW.location_id AND a.room = NEW.room AND a.room <> ''\n"
        "    AND a.status IN ('booked', 'confirmed') AND a.id <> NEW.id\n"
        "    AND a.start_unix > NEW.start_unix - 86400 AND a.start_unix < NEW.end_unix "
        "AND NEW.start_unix < a.end_unix)\n"
        "BEGIN\n  SELECT RAISE(ABORT, 'room: the room is booked at an overlapping time');\nEND;\n";
    return std::string(kSchemaV7) + "CREATE TRIGGER appointments_room_insert BEFORE INSERT ON appointments\n" + when +
           "CREATE TRIGGER appointments_room_update\n"
           "BEFORE UPDATE OF start_unix, end_unix, status, location_id, room ON appointments\n" +
           when;
  }();
  return sql;
}

constexpr std::string_view kBlockColumns =
    "id, practice_id, therapist_id, start_unix, end_unix, time_zone, weekly, repeat_until, reason, created_by, "
    "created_unix_ms";

// A time block row; its sealed reason opened with `ciphers`, or left "" when
// `ciphers` is null (conflict checks need only the times).
TimeBlock read_block(const Statement& st, store::PracticeCiphers* ciphers) {
  TimeBlock b;
  b.id = st.column_text(0);
  b.practice_id = st.column_text(1);
  b.therapist_id = st.column_text(2);
  b.times.start = from_unix(st.column_int(3));
  b.times.end = from_unix(st.column_int(4));
  b.times.time_zone = st.column_text(5);
  b.times.weekly = st.column_int(6) != 0;
  if (auto until = st.column_text(7); !until.empty()) {
    if (auto d = parse_date(until, "repeat_until")) b.times.until = *d;
  }
  if (ciphers) b.reason = ciphers->of(b.practice_id).open_optional("time_blocks", "reason", b.id, st.column_blob(8));
  b.created_by = st.column_text(9);
  b.created_unix_ms = st.column_int(10);
  return b;
}

// The therapist's blocks that may have an occurrence overlapping [from, to).
std::vector<TimeBlock> blocks_between(Connection& c, store::PracticeCiphers* ciphers, const std::string& therapist_id,
                                      Instant from, Instant to) {
  static const std::string sql = "SELECT " + std::string(kBlockColumns) +
                                 " FROM time_blocks WHERE therapist_id = ?1 AND start_unix < ?3 "
                                 "AND (last_end_unix IS NULL OR last_end_unix > ?2) ORDER BY start_unix, id";
  return query_all(c, sql, [ciphers](const Statement& st) { return read_block(st, ciphers); }, therapist_id,
                   to_unix(from), to_unix(to));
}

constexpr std::string_view kAppointmentColumns =
    "id, practice_id, therapist_id, client_id, type_id, start_unix, end_unix, buffer_before_s, buffer_after_s, "
    "status, version, series_id, cancel_reason, late_cancellation, created_by, created_unix_ms, updated_by, "
    "updated_unix_ms, cancelled_by, cancelled_unix_ms, time_zone, type_name, modality, location_id, location_name, "
    "location_address, room, video_link";

std::string select_appointments(std::string_view where) {
  return "SELECT " + std::string(kAppointmentColumns) + " FROM appointments " + std::string(where);
}

// Migration 9 needs no SQL of its own: store::open_sealed adds data_keys.
constexpr std::string_view kSchemaV9 = "-- sealed free text (store::open_sealed)";

// Migration 10: location names and addresses are sealed (a practice run from a
// therapist's home has its address there); name_hash, the name's lookup hash, keeps a
// name unique in its practice. seal_existing_locations seals the rows before it.
constexpr std::string_view kSchemaV10 = R"sql(
ALTER TABLE locations ADD COLUMN name_hash BLOB;
DROP INDEX locations_practice_name;
CREATE UNIQUE INDEX locations_practice_name_hash ON locations(practice_id, name_hash);
)sql";

// The practice of an appointment (a note's row has none of its own).
std::optional<std::string> appointment_practice(Connection& c, const std::string& appointment_id) {
  return query_one(c, "SELECT practice_id FROM appointments WHERE id = ?1",
                   [](const Statement& st) { return st.column_text(0); }, appointment_id);
}

// Schema v9: seals every cancellation reason, time-block reason and appointment note in
// place (one transaction with the schema change), so none stays in clear.
void seal_existing_text(Connection& c, store::DataKeys& keys) {
  struct Plain {
    std::string id, practice_id, text;
  };
  auto read_plain = [](const Statement& st) { return Plain{st.column_text(0), st.column_text(1), st.column_text(2)}; };
  store::PracticeCiphers ciphers(c, keys);
  for (auto& r : query_all(c, "SELECT id, practice_id, cancel_reason FROM appointments WHERE cancel_reason <> ''",
                           read_plain)) {
    execute(c, "UPDATE appointments SET cancel_reason = ?2 WHERE id = ?1", r.id,
            Blob{ciphers.of(r.practice_id).seal("appointments", "cancel_reason", r.id, r.text)});
    crypto::wipe(r.text);
  }
  for (auto& r : query_all(c, "SELECT id, practice_id, reason FROM time_blocks WHERE reason <> ''", read_plain)) {
    execute(c, "UPDATE time_blocks SET reason = ?2 WHERE id = ?1", r.id,
            Blob{ciphers.of(r.practice_id).seal("time_blocks", "reason", r.id, r.text)});
    crypto::wipe(r.text);
  }
  for (auto& r : query_all(c,
                           "SELECT n.appointment_id, a.practice_id, n.note FROM appointment_notes n "
                           "JOIN appointments a ON a.id = n.appointment_id",
                           read_plain)) {
    execute(c, "UPDATE appointment_notes SET note = ?2 WHERE appointment_id = ?1", r.id,
            Blob{ciphers.of(r.practice_id).seal("appointment_notes", "note", r.id, r.text)});
    crypto::wipe(r.text);
  }
}

// Schema v10: seals every location's name and address (with the name's lookup hash)
// and their copies in appointments, in place.
void seal_existing_locations(Connection& c, store::DataKeys& keys) {
  struct Place {
    std::string id, practice_id, name, address;
  };
  auto read_place = [](const Statement& st) {
    return Place{st.column_text(0), st.column_text(1), st.column_text(2), st.column_text(3)};
  };
  store::PracticeCiphers ciphers(c, keys);
  for (auto& l : query_all(c, "SELECT id, practice_id, name, address FROM locations", read_place)) {
    const auto& cipher = ciphers.of(l.practice_id);
    execute(c, "UPDATE locations SET name = ?2, address = ?3, name_hash = ?4 WHERE id = ?1", l.id,
            Blob{cipher.seal("locations", "name", l.id, l.name)},
            Blob{cipher.seal("locations", "address", l.id, l.address)},
            Blob{cipher.lookup_hash("location_name", l.name)});
    crypto::wipe(l.name);
    crypto::wipe(l.address);
  }
  for (auto& a : query_all(c,
                           "SELECT id, practice_id, location_name, location_address FROM appointments "
                           "WHERE location_name <> '' OR location_address <> ''",
                           read_place)) {
    const auto& cipher = ciphers.of(a.practice_id);
    execute(c, "UPDATE appointments SET location_name = ?2, location_address = ?3 WHERE id = ?1", a.id,
            Blob{cipher.seal_optional("appointments", "location_name", a.id, a.name)},
            Blob{cipher.seal_optional("appointments", "location_address", a.id, a.address)});
    crypto::wipe(a.name);
    crypto::wipe(a.address);
  }
}

// An appointment row, its sealed cancellation reason and location opened with `ciphers`.
Appointment read_appointment(const Statement& st, store::PracticeCiphers& ciphers) {
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
  a.cancel_reason = ciphers.of(a.practice_id).open_optional("appointments", "cancel_reason", a.id, st.column_blob(12));
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
  a.location_id = st.column_text(23);
  a.location_name = ciphers.of(a.practice_id).open_optional("appointments", "location_name", a.id, st.column_blob(24));
  a.location_address =
      ciphers.of(a.practice_id).open_optional("appointments", "location_address", a.id, st.column_blob(25));
  a.room = st.column_text(26);
  a.video_link = st.column_text(27);
  return a;
}

std::optional<Appointment> load_appointment(Connection& c, store::PracticeCiphers& ciphers, const std::string& id) {
  static const std::string sql = select_appointments("WHERE id = ?1");
  auto& st = c.prepare(sql);
  st.bind(1, std::string_view(id));
  if (!st.step()) return std::nullopt;
  return read_appointment(st, ciphers);
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
    if ((e.code() & 0xff) == SQLITE_CONSTRAINT &&
        std::string_view(e.what()).find("held for a waitlisted client") != std::string_view::npos)
      return Error{Code::kAlreadyExists, std::string(kHeldMessage), "start_time"};
    if ((e.code() & 0xff) == SQLITE_CONSTRAINT &&
        std::string_view(e.what()).find("room is booked") != std::string_view::npos)
      return Error{Code::kAlreadyExists, std::string(kRoomTakenMessage), "room"};
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
  // Time blocks, over the same window as the appointments read above.
  const Instant lo = start - std::chrono::days(3), hi = end + std::chrono::days(3);
  for (const auto& block : blocks_between(c, nullptr, therapist_id, lo, hi)) {
    auto occurrences = block_occurrences(block.times, lo, hi);
    out.insert(out.end(), occurrences.begin(), occurrences.end());
  }
  return out;
}

bool overlaps_stored(Connection& c, const Appointment& a) {
  auto near = blocking_near(c, a.therapist_id, a.start, a.end, a.id);
  return conflicts(near, a.start, a.end, std::chrono::minutes(a.buffer_before_minutes),
                   std::chrono::minutes(a.buffer_after_minutes));
}

// Every hold of the therapist near [start, end), expired or not, with its holder.
std::vector<HeldTime> all_holds_near(Connection& c, const std::string& therapist_id, Instant start, Instant end) {
  auto& st = c.prepare(
      "SELECT start_unix, end_unix, buffer_before_s, buffer_after_s, client_id, expires_unix_ms FROM slot_holds "
      "WHERE therapist_id = ?1 AND start_unix > ?2 - 259200 AND start_unix < ?3 + 259200");
  st.bind_all(therapist_id, to_unix(start), to_unix(end));
  std::vector<HeldTime> out;
  while (st.step())
    out.push_back(HeldTime{Booked{from_unix(st.column_int(0)), from_unix(st.column_int(1)),
                                  std::chrono::minutes(st.column_int(2) / 60),
                                  std::chrono::minutes(st.column_int(3) / 60)},
                           st.column_text(4), st.column_int(5)});
  return out;
}

// Active holds of the therapist near [start, end) of every client but `except_client`.
std::vector<Booked> holds_near(Connection& c, const std::string& therapist_id, Instant start, Instant end,
                               const std::string& except_client) {
  SlotInputs held;
  held.holds = all_holds_near(c, therapist_id, start, end);
  return held.blocking_for(except_client, now_unix_ms());
}

bool held_by_other(Connection& c, const Appointment& a) {
  auto near = holds_near(c, a.therapist_id, a.start, a.end, a.client_id);
  return conflicts(near, a.start, a.end, std::chrono::minutes(a.buffer_before_minutes),
                   std::chrono::minutes(a.buffer_after_minutes));
}

// Whether another active appointment holds a's room at an overlapping time: the room
// triggers' condition, asked before inserting so that a series can skip that occurrence.
bool room_taken(Connection& c, const Appointment& a) {
  if (a.room.empty()) return false;
  auto& st = c.prepare(
      "SELECT 1 FROM appointments WHERE location_id = ?1 AND room = ?2 AND status IN ('booked', 'confirmed') "
      "AND id <> ?3 AND start_unix > ?4 - 86400 AND start_unix < ?5 AND ?4 < end_unix LIMIT 1");
  st.bind_all(a.location_id, a.room, a.id, to_unix(a.start), to_unix(a.end));
  return st.step();
}

void insert_appointment(Connection& c, store::PracticeCiphers& ciphers, const Appointment& a) {
  static const std::string sql = "INSERT INTO appointments (" + std::string(kAppointmentColumns) +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                                 "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)";
  auto& st = c.prepare(sql);
  std::optional<std::string_view> series;
  if (!a.series_id.empty()) series = a.series_id;
  st.bind_all(a.id, a.practice_id, a.therapist_id, a.client_id, a.type_id, to_unix(a.start), to_unix(a.end),
              std::int64_t{a.buffer_before_minutes} * 60, std::int64_t{a.buffer_after_minutes} * 60,
              status_name(a.status), a.version, series,
              Blob{ciphers.of(a.practice_id).seal_optional("appointments", "cancel_reason", a.id, a.cancel_reason)},
              a.late_cancellation ? 1 : 0, a.created_by,
              a.created_unix_ms, a.updated_by, a.updated_unix_ms, a.cancelled_by, a.cancelled_unix_ms,
              a.time_zone, a.type_name, a.modality, a.location_id,
              Blob{ciphers.of(a.practice_id).seal_optional("appointments", "location_name", a.id, a.location_name)},
              Blob{ciphers.of(a.practice_id).seal_optional("appointments", "location_address", a.id,
                                                           a.location_address)},
              a.room, a.video_link);
  st.step();
}

void update_appointment(Connection& c, store::PracticeCiphers& ciphers, const Appointment& a) {
  auto& st = c.prepare(
      "UPDATE appointments SET start_unix = ?2, end_unix = ?3, status = ?4, version = ?5, cancel_reason = ?6, "
      "late_cancellation = ?7, updated_by = ?8, updated_unix_ms = ?9, cancelled_by = ?10, "
      "cancelled_unix_ms = ?11 WHERE id = ?1");
  st.bind_all(a.id, to_unix(a.start), to_unix(a.end), status_name(a.status), a.version,
              Blob{ciphers.of(a.practice_id).seal_optional("appointments", "cancel_reason", a.id, a.cancel_reason)},
              a.late_cancellation ? 1 : 0, a.updated_by, a.updated_unix_ms, a.cancelled_by, a.cancelled_unix_ms);
  st.step();
}

// History line + outbox event for a change already written, same transaction.
void record_change(Connection& c, const Appointment& a, std::string_view action, const std::string& actor,
                   std::int64_t now_ms, std::optional<Instant> previous_start, const ClientTimes& times) {
  auto& h = c.prepare(
      "INSERT INTO appointment_history (appointment_id, version, action, actor_user_id, at_unix_ms, start_unix, "
      "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  h.bind_all(a.id, a.version, action, actor, now_ms, to_unix(a.start), status_name(a.status));
  h.step();
  auto event = encode_event(action, a, times, actor, now_ms, previous_start);
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

// The record of `idem`'s key if it was used before with the same request; nullopt if
// it is new; kAlreadyExists if it was used for another request.
Result<std::optional<IdempotencyRecord>> seen_before(Connection& c, const IdempotencyRecord& idem) {
  auto seen = load_idempotency(c, idem.caller_id, idem.key);
  if (seen && seen->request_hash != idem.request_hash)
    return idempotency_key_reused();
  return seen;
}

// Binds `idem`'s key to what the request produced, in the caller's transaction.
void save_key(Connection& c, const IdempotencyRecord& idem, std::optional<std::string_view> appointment_id,
              std::optional<std::string_view> series_id, std::string_view response, std::int64_t now_ms) {
  auto& st = c.prepare(
      "INSERT INTO idempotency_keys (caller_id, key, request_hash, appointment_id, series_id, response, "
      "created_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  st.bind_all(idem.caller_id, idem.key, store::Blob{idem.request_hash}, appointment_id, series_id,
              store::Blob{response}, now_ms);
  st.step();
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
  t.default_location_id = st.column_text(13);
  return t;
}

constexpr std::string_view kTypeColumns =
    "id, practice_id, name, duration_minutes, modality, buffer_before_minutes, buffer_after_minutes, "
    "min_notice_minutes, booking_horizon_days, client_self_booking, step_minutes, created_by, created_unix_ms, "
    "default_location_id";

date::year_month_day date_column(const Statement& st, int i) {
  auto d = parse_date(st.column_text(i), "date");
  return d ? *d : date::year_month_day{};
}

}  // namespace

std::vector<store::Migration> scheduling_migrations() {
  // Migration 9: cancellation reasons, time-block reasons and notes are sealed from here
  // on (store/sealed_fields.hpp); store::open_sealed adds data_keys and seals existing
  // ones in the same transaction.
  return {store::Migration{1, kSchemaV1}, store::Migration{2, kSchemaV2},
          store::Migration{3, kSchemaV3}, store::Migration{4, kSchemaV4},
          store::Migration{5, kSchemaV5}, store::Migration{6, kSchemaV6},
          store::Migration{7, schema_v7()}, store::Migration{8, kSchemaV8},
          store::Migration{kSealedTextVersion, kSchemaV9}, store::Migration{kSealedLocationsVersion, kSchemaV10}};
}

Result<std::unique_ptr<SchedulingStore>> SchedulingStore::open(const std::filesystem::path& path,
                                                               store::KekPair keys) {
  store::DatabaseOptions options;
  options.path = path;
  options.migrations = scheduling_migrations();
  // The cache's triggers are on the writer before any write, and it hears of every commit.
  auto cache = std::make_shared<SlotSearchCache>();
  options.on_open = [cache](Connection& c) -> Status {
    cache->attach(c);
    return {};
  };
  options.after_write = [cache] { cache->publish(); };
  std::vector<store::SealStep> steps;
  steps.push_back(store::SealStep{kSealedTextVersion, seal_existing_text});
  steps.push_back(store::SealStep{kSealedLocationsVersion, seal_existing_locations});
  auto opened = store::open_sealed(std::move(options), std::move(keys), std::move(steps));
  if (!opened) return std::move(opened).error();
  auto out = std::make_unique<SchedulingStore>(std::move(opened->db), std::move(opened->keys), std::move(cache));
  out->rewrapped_data_keys_ = opened->rewrapped;
  return out;
}

SchedulingStore::SchedulingStore(std::unique_ptr<store::Database> db, std::shared_ptr<store::DataKeys> keys,
                                 std::shared_ptr<SlotSearchCache> cache)
    : keys_(std::move(keys)), db_(std::move(db)), cache_(std::move(cache)) {}

asio::awaitable<Result<SchedulingStore::MadeType>> SchedulingStore::create_type(AppointmentType t,
                                                                                IdempotencyRecord idem) {
  auto job = [t = std::move(t), idem = std::move(idem)](Connection& c) -> Result<MadeType> {
    if (!idem.key.empty()) {
      auto seen = seen_before(c, idem);
      if (!seen) return seen.error();
      if (*seen) {
        static const std::string sql =
            "SELECT " + std::string(kTypeColumns) + " FROM appointment_types WHERE id = ?1";
        auto made = query_one(c, sql, read_type, (*seen)->response);
        if (!made) return Error{Code::kInternal, "idempotency record without its appointment type", ""};
        return MadeType{std::move(*made), true};
      }
    }
    auto& taken = c.prepare("SELECT 1 FROM appointment_types WHERE practice_id = ?1 AND name = ?2");
    taken.bind_all(t.practice_id, t.name);
    if (taken.step())
      return Error{Code::kAlreadyExists, "name: the practice already has an appointment type with this name",
                   "name"};
    static const std::string sql = "INSERT INTO appointment_types (" + std::string(kTypeColumns) +
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
    auto& st = c.prepare(sql);
    st.bind_all(t.id, t.practice_id, t.name, t.duration_minutes, t.modality, t.buffer_before_minutes,
                t.buffer_after_minutes, t.min_notice_minutes, t.booking_horizon_days, t.client_self_booking ? 1 : 0,
                t.step_minutes, t.created_by, t.created_unix_ms, t.default_location_id);
    st.step();
    if (!idem.key.empty()) save_key(c, idem, std::nullopt, std::nullopt, t.id, t.created_unix_ms);
    return MadeType{t};
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

namespace {

constexpr std::string_view kLocationColumns =
    "id, practice_id, name, address, rooms, created_by, created_unix_ms, retired_rooms, updated_by, updated_unix_ms";

// Room names are stored joined by line feeds (a name holds none).
std::vector<std::string> split_rooms(std::string_view rooms) {
  std::vector<std::string> out;
  while (!rooms.empty()) {
    const auto end = rooms.find('\n');
    out.emplace_back(rooms.substr(0, end));
    rooms.remove_prefix(end == std::string_view::npos ? rooms.size() : end + 1);
  }
  return out;
}

std::string join_rooms(const std::vector<std::string>& rooms) {
  std::string out;
  for (const auto& room : rooms) {
    if (!out.empty()) out += '\n';
    out += room;
  }
  return out;
}

// A location row, its sealed name and address opened with `ciphers`.
Location read_location(const Statement& st, store::PracticeCiphers& ciphers) {
  Location l;
  l.id = st.column_text(0);
  l.practice_id = st.column_text(1);
  l.name = ciphers.of(l.practice_id).open("locations", "name", l.id, st.column_blob(2));
  l.address = ciphers.of(l.practice_id).open("locations", "address", l.id, st.column_blob(3));
  l.rooms = split_rooms(st.column_text(4));
  l.created_by = st.column_text(5);
  l.created_unix_ms = st.column_int(6);
  l.retired_rooms = split_rooms(st.column_text(7));
  l.updated_by = st.column_text(8);
  l.updated_unix_ms = st.column_int(9);
  return l;
}

Error location_name_taken() {
  return Error{Code::kAlreadyExists, "name: the practice already has a location with this name", "name"};
}

// Whether another location of the practice (not `except_id`) has this name (by its lookup hash).
bool location_name_used(Connection& c, const store::FieldCipher& cipher, const Location& l,
                        const std::string& except_id) {
  auto& taken = c.prepare("SELECT 1 FROM locations WHERE practice_id = ?1 AND name_hash = ?2 AND id <> ?3");
  taken.bind_all(l.practice_id, Blob{cipher.lookup_hash("location_name", l.name)}, except_id);
  const bool used = taken.step();
  taken.reset();
  return used;
}

}  // namespace

asio::awaitable<Status> SchedulingStore::create_location(Location l) {
  auto job = [keys = keys_.get(), l = std::move(l)](Connection& c) -> Status {
    const auto cipher = keys->cipher(c, l.practice_id);
    if (location_name_used(c, cipher, l, "")) return location_name_taken();
    static const std::string sql = "INSERT INTO locations (" + std::string(kLocationColumns) +
                                   ", name_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
    auto& st = c.prepare(sql);
    st.bind_all(l.id, l.practice_id, Blob{cipher.seal("locations", "name", l.id, l.name)},
                Blob{cipher.seal("locations", "address", l.id, l.address)}, join_rooms(l.rooms), l.created_by,
                l.created_unix_ms, join_rooms(l.retired_rooms), l.updated_by, l.updated_unix_ms,
                Blob{cipher.lookup_hash("location_name", l.name)});
    st.step();
    return Status{};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<Location>>> SchedulingStore::find_location(std::string location_id) {
  auto job = [keys = keys_.get(), location_id = std::move(location_id)](Connection& c) -> Result<std::optional<Location>> {
    static const std::string sql = "SELECT " + std::string(kLocationColumns) + " FROM locations WHERE id = ?1";
    store::PracticeCiphers ciphers(c, *keys);
    return query_one(c, sql, [&ciphers](const Statement& st) { return read_location(st, ciphers); }, location_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<Location>>> SchedulingStore::list_locations(std::string practice_id) {
  auto job = [keys = keys_.get(), practice_id = std::move(practice_id)](Connection& c) -> Result<std::vector<Location>> {
    static const std::string sql = "SELECT " + std::string(kLocationColumns) +
                                   " FROM locations WHERE practice_id = ?1 ORDER BY id";
    store::PracticeCiphers ciphers(c, *keys);
    auto out = query_all(c, sql, [&ciphers](const Statement& st) { return read_location(st, ciphers); }, practice_id);
    // By name (sealed, so sorted here), then id.
    std::stable_sort(out.begin(), out.end(), [](const Location& a, const Location& b) { return a.name < b.name; });
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<Location>> SchedulingStore::update_location(std::string practice_id, std::string location_id,
                                                                   LocationChange change, std::string by,
                                                                   std::int64_t at_unix_ms) {
  auto job = [keys = keys_.get(), practice_id = std::move(practice_id), location_id = std::move(location_id),
              change = std::move(change), by = std::move(by), at_unix_ms](Connection& c) -> Result<Location> {
    static const std::string find = "SELECT " + std::string(kLocationColumns) + " FROM locations WHERE id = ?1";
    store::PracticeCiphers ciphers(c, *keys);
    auto found = query_one(c, find, [&ciphers](const Statement& st) { return read_location(st, ciphers); }, location_id);
    if (!found || found->practice_id != practice_id)
      return Error{Code::kNotFound, "location_id: no such location in the practice", "location_id"};
    Location l = std::move(*found);
    if (auto s = apply_location_change(l, change); !s) return s.error();
    const auto& cipher = ciphers.of(l.practice_id);
    if (location_name_used(c, cipher, l, l.id)) return location_name_taken();
    l.updated_by = by;
    l.updated_unix_ms = at_unix_ms;
    auto& st = c.prepare(
        "UPDATE locations SET name = ?2, address = ?3, rooms = ?4, retired_rooms = ?5, updated_by = ?6, "
        "updated_unix_ms = ?7, name_hash = ?8 WHERE id = ?1");
    st.bind_all(l.id, Blob{cipher.seal("locations", "name", l.id, l.name)},
                Blob{cipher.seal("locations", "address", l.id, l.address)}, join_rooms(l.rooms),
                join_rooms(l.retired_rooms), l.updated_by, l.updated_unix_ms,
                Blob{cipher.lookup_hash("location_name", l.name)});
    st.step();
    return l;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Status> SchedulingStore::set_practice_video_link(PracticeVideoLink link) {
  auto job = [link = std::move(link)](Connection& c) -> Status {
    if (link.video_link.empty()) {
      auto& del = c.prepare("DELETE FROM practice_video_links WHERE practice_id = ?1");
      del.bind_all(link.practice_id);
      del.step();
      return Status{};
    }
    auto& st = c.prepare(
        "INSERT INTO practice_video_links (practice_id, video_link, updated_by, updated_unix_ms) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (practice_id) DO UPDATE SET video_link = excluded.video_link, "
        "updated_by = excluded.updated_by, updated_unix_ms = excluded.updated_unix_ms");
    st.bind_all(link.practice_id, link.video_link, link.updated_by, link.updated_unix_ms);
    st.step();
    return Status{};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<PracticeVideoLink>>> SchedulingStore::practice_video_link(std::string practice_id) {
  auto job = [practice_id = std::move(practice_id)](Connection& c) -> Result<std::optional<PracticeVideoLink>> {
    auto read = [](const Statement& st) {
      return PracticeVideoLink{st.column_text(0), st.column_text(1), st.column_text(2), st.column_int(3)};
    };
    return query_one(c,
                     "SELECT practice_id, video_link, updated_by, updated_unix_ms FROM practice_video_links "
                     "WHERE practice_id = ?1",
                     read, practice_id);
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
    for (const auto& change : a.availability.changes)
      for (const auto& w : change.weekly)
        execute(c,
                "INSERT INTO availability_changes (therapist_id, from_date, weekday, start_minute, end_minute) "
                "VALUES (?1, ?2, ?3, ?4, ?5)",
                a.therapist_id, format_date(change.from), w.weekday, w.interval.start_minute, w.interval.end_minute);
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

namespace {

// The therapist's availability with all its rows, or nullopt when none is set.
Result<std::optional<TherapistAvailability>> load_availability(Connection& c, const std::string& therapist_id) {
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
  auto& ch = c.prepare(
      "SELECT from_date, weekday, start_minute, end_minute FROM availability_changes WHERE therapist_id = ?1 "
      "ORDER BY from_date, weekday, start_minute");
  ch.bind(1, std::string_view(therapist_id));
  while (ch.step()) {
    const auto from = date_column(ch, 0);
    if (a.availability.changes.empty() || a.availability.changes.back().from != from)
      a.availability.changes.push_back(DatedWeekly{from, {}});
    a.availability.changes.back().weekly.push_back(
        WeeklyHours{static_cast<int>(ch.column_int(1)),
                    LocalInterval{static_cast<int>(ch.column_int(2)), static_cast<int>(ch.column_int(3))}});
  }
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
}

}  // namespace

asio::awaitable<Result<std::optional<TherapistAvailability>>> SchedulingStore::find_availability(
    std::string therapist_id) {
  auto job = [therapist_id = std::move(therapist_id)](Connection& c) -> Result<std::optional<TherapistAvailability>> {
    return load_availability(c, therapist_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<AppointmentType>>> SchedulingStore::search_type(std::string type_id) {
  if (cache_) {
    if (auto hit = cache_->find_type(type_id)) co_return std::optional<AppointmentType>(std::move(*hit));
  }
  const auto ticket = cache_ ? cache_->ticket() : SlotSearchCache::Ticket{};
  auto found = co_await find_type(std::move(type_id));
  if (found && *found && cache_) cache_->put_type(ticket, **found);
  co_return found;
}

asio::awaitable<Result<std::shared_ptr<const SlotInputs>>> SchedulingStore::slot_inputs(std::string therapist_id,
                                                                                       Instant from, Instant to) {
  if (cache_) {
    if (auto hit = cache_->find(therapist_id, from, to)) co_return hit;
  }
  const auto ticket = cache_ ? cache_->ticket() : SlotSearchCache::Ticket{};
  // Read a wider window than asked, so the searches that follow (later days, other
  // ranges of the same weeks) are served from this one read.
  const Instant lo = from - kSlotInputsMargin, hi = std::max(to, from + kSlotInputsSpan);
  auto job = [therapist_id, lo, hi](Connection& c) -> Result<std::shared_ptr<const SlotInputs>> {
    auto inputs = std::make_shared<SlotInputs>();
    auto availability = load_availability(c, therapist_id);
    if (!availability) return availability.error();
    inputs->availability = std::move(*availability);
    inputs->from = lo;
    inputs->to = hi;
    inputs->blocking = blocking_near(c, therapist_id, lo, hi, "");
    inputs->holds = all_holds_near(c, therapist_id, lo, hi);
    return std::shared_ptr<const SlotInputs>(std::move(inputs));
  };
  auto read = co_await db_->read(std::move(job));
  if (read && (*read)->availability && cache_) cache_->put(therapist_id, ticket, *read);
  co_return read;
}

asio::awaitable<Status> SchedulingStore::create_time_block(TimeBlock b) {
  auto job = [keys = keys_.get(), b = std::move(b)](Connection& c) -> Status {
    static const std::string sql = "INSERT INTO time_blocks (" + std::string(kBlockColumns) +
                                   ", last_end_unix) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
    std::optional<std::int64_t> last_end;
    if (auto last = block_last_end(b.times)) last_end = to_unix(*last);
    execute(c, sql, b.id, b.practice_id, b.therapist_id, to_unix(b.times.start), to_unix(b.times.end),
            b.times.time_zone, b.times.weekly ? 1 : 0, b.times.until ? format_date(*b.times.until) : std::string(),
            Blob{keys->cipher(c, b.practice_id).seal_optional("time_blocks", "reason", b.id, b.reason)}, b.created_by,
            b.created_unix_ms, last_end);
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<TimeBlock>>> SchedulingStore::list_time_blocks(std::string therapist_id,
                                                                                  Instant from, Instant to) {
  auto job = [keys = keys_.get(), therapist_id = std::move(therapist_id), from, to](Connection& c) -> Result<std::vector<TimeBlock>> {
    store::PracticeCiphers ciphers(c, *keys);
    return blocks_between(c, &ciphers, therapist_id, from, to);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<TimeBlock>>> SchedulingStore::find_time_block(std::string block_id) {
  auto job = [keys = keys_.get(), block_id = std::move(block_id)](Connection& c) -> Result<std::optional<TimeBlock>> {
    static const std::string sql = "SELECT " + std::string(kBlockColumns) + " FROM time_blocks WHERE id = ?1";
    store::PracticeCiphers ciphers(c, *keys);
    return store::query_one(c, sql, [&ciphers](const Statement& st) { return read_block(st, &ciphers); }, block_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<bool>> SchedulingStore::delete_time_block(std::string block_id) {
  auto job = [block_id = std::move(block_id)](Connection& c) -> Result<bool> {
    return execute(c, "DELETE FROM time_blocks WHERE id = ?1", block_id) > 0;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<std::string>>> SchedulingStore::therapists_with_availability(
    std::string practice_id) {
  auto job = [practice_id = std::move(practice_id)](Connection& c) -> Result<std::vector<std::string>> {
    return query_all(c, "SELECT therapist_id FROM availability WHERE practice_id = ?1 ORDER BY therapist_id",
                     [](const Statement& st) { return st.column_text(0); }, practice_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Status> SchedulingStore::set_note(AppointmentNote n) {
  auto job = [keys = keys_.get(), n = std::move(n)](Connection& c) -> Status {
    if (n.note.empty()) {
      execute(c, "DELETE FROM appointment_notes WHERE appointment_id = ?1", n.appointment_id);
      return {};
    }
    auto practice_id = appointment_practice(c, n.appointment_id);
    if (!practice_id) return Error{Code::kNotFound, "appointment_id: no such appointment", "appointment_id"};
    const auto sealed = keys->cipher(c, *practice_id).seal("appointment_notes", "note", n.appointment_id, n.note);
    execute(c,
            "INSERT INTO appointment_notes (appointment_id, note, updated_by, updated_unix_ms) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT (appointment_id) DO UPDATE SET note = ?2, updated_by = ?3, updated_unix_ms = ?4",
            n.appointment_id, Blob{sealed}, n.updated_by, n.updated_unix_ms);
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<AppointmentNote>>> SchedulingStore::notes(std::vector<std::string> appointment_ids) {
  auto job = [keys = keys_.get(), ids = std::move(appointment_ids)](Connection& c) -> Result<std::vector<AppointmentNote>> {
    std::vector<AppointmentNote> out;
    store::PracticeCiphers ciphers(c, *keys);
    for (const auto& id : ids) {
      auto note = store::query_one(
          c,
          "SELECT n.appointment_id, n.note, n.updated_by, n.updated_unix_ms, a.practice_id FROM appointment_notes n "
          "JOIN appointments a ON a.id = n.appointment_id WHERE n.appointment_id = ?1",
          [&ciphers](const Statement& st) {
            const auto appointment_id = st.column_text(0);
            return AppointmentNote{
                appointment_id,
                ciphers.of(st.column_text(4)).open("appointment_notes", "note", appointment_id, st.column_blob(1)),
                st.column_text(2), st.column_int(3)};
          },
          id);
      if (note) out.push_back(std::move(*note));
    }
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<Appointment>>> SchedulingStore::find_appointment(std::string id) {
  auto job = [keys = keys_.get(), id = std::move(id)](Connection& c) -> Result<std::optional<Appointment>> {
    store::PracticeCiphers ciphers(c, *keys);
    return load_appointment(c, ciphers, id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<Booked>>> SchedulingStore::blocking(std::string therapist_id, Instant from,
                                                                      Instant to, std::string exclude_id,
                                                                      std::optional<std::string> holds_except) {
  auto job = [therapist_id = std::move(therapist_id), from, to, exclude_id = std::move(exclude_id),
              holds_except = std::move(holds_except)](Connection& c) -> Result<std::vector<Booked>> {
    auto out = blocking_near(c, therapist_id, from, to, exclude_id);
    if (holds_except) {
      auto held = holds_near(c, therapist_id, from, to, *holds_except);
      out.insert(out.end(), held.begin(), held.end());
    }
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<Appointment>>> SchedulingStore::list_appointments(AppointmentQuery q) {
  auto job = [keys = keys_.get(), q = std::move(q)](Connection& c) -> Result<std::vector<Appointment>> {
    store::PracticeCiphers ciphers(c, *keys);
    static const std::string sql = select_appointments(
        "WHERE practice_id = ?1 AND start_unix >= ?2 AND start_unix < ?3 AND (?4 IS NULL OR therapist_id = ?4) "
        "AND (?5 IS NULL OR client_id = ?5) AND (?6 IS NULL OR status = ?6) ORDER BY start_unix, id LIMIT ?7");
    auto& st = c.prepare(sql);
    std::optional<std::string_view> status;
    if (q.status) status = status_name(*q.status);
    st.bind_all(q.practice_id, to_unix(q.from), to_unix(q.to), q.therapist_id, q.client_id, status, q.limit + 1);
    std::vector<Appointment> out;
    while (st.step()) out.push_back(read_appointment(st, ciphers));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<Appointment>>> SchedulingStore::series_appointments(std::string series_id) {
  auto job = [keys = keys_.get(), series_id = std::move(series_id)](Connection& c) -> Result<std::vector<Appointment>> {
    store::PracticeCiphers ciphers(c, *keys);
    static const std::string sql = select_appointments("WHERE series_id = ?1 ORDER BY start_unix, id");
    auto& st = c.prepare(sql);
    st.bind(1, std::string_view(series_id));
    std::vector<Appointment> out;
    while (st.step()) out.push_back(read_appointment(st, ciphers));
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
  auto job = [keys = keys_.get(), request = std::move(request), actor = std::move(actor)](Connection& c) -> Result<BookingOutcome> {
    store::PracticeCiphers ciphers(c, *keys);
    return overlap_guard([&]() -> Result<BookingOutcome> {
      const auto& idem = request.idempotency;
      BookingOutcome out;
      auto seen = seen_before(c, idem);
      if (!seen) return seen.error();
      if (*seen) {
        out.replay = std::move(*seen);
        return out;
      }
      const auto now_ms = now_unix_ms();
      for (const auto& candidate : request.candidates) {
        std::optional<Error> refused;
        if (overlaps_stored(c, candidate))
          refused = Error{Code::kAlreadyExists, std::string(kOverlapMessage), "start_time"};
        else if (held_by_other(c, candidate))
          refused = Error{Code::kAlreadyExists, std::string(kHeldMessage), "start_time"};
        else if (room_taken(c, candidate))
          refused = Error{Code::kAlreadyExists, std::string(kRoomTakenMessage), "room"};
        if (refused) {
          if (request.all_or_nothing) return std::move(*refused);
          out.booked.emplace_back(std::nullopt);
          out.skipped_because.push_back(std::move(refused->message));
          continue;
        }
        insert_appointment(c, ciphers, candidate);
        record_change(c, candidate, "booked", actor, now_ms, std::nullopt, request.times);
        out.booked.emplace_back(candidate);
        out.skipped_because.emplace_back();
      }
      std::string response = request.encode_response ? request.encode_response(out) : std::string();
      std::optional<std::string_view> appointment_id, series_id;
      if (request.candidates.size() == 1 && request.candidates[0].series_id.empty() && out.booked[0])
        appointment_id = out.booked[0]->id;
      if (!request.candidates.empty() && !request.candidates[0].series_id.empty())
        series_id = request.candidates[0].series_id;
      save_key(c, idem, appointment_id, series_id, response, now_ms);
      return out;
    });
  };
  co_return co_await db_->write(std::move(job));
}

namespace {

// Applies `decide` to `current` and writes the result; shared by modify and modify_series.
Result<Appointment> apply_change(Connection& c, store::PracticeCiphers& ciphers, const Appointment& current, const std::string& actor,
                                 const Decide& decide, std::int64_t now_ms, const ClientTimes& times) {
  auto change = decide(current);
  if (!change) return std::move(change).error();
  Appointment next = std::move(change->next);
  next.version = current.version + 1;
  next.updated_by = actor;
  next.updated_unix_ms = now_ms;
  const bool moved = next.start != current.start || next.end != current.end;
  if (holds_time(next.status) && (moved || !holds_time(current.status))) {
    if (overlaps_stored(c, next)) return Error{Code::kAlreadyExists, std::string(kOverlapMessage), "start_time"};
    if (held_by_other(c, next)) return Error{Code::kAlreadyExists, std::string(kHeldMessage), "start_time"};
  }
  update_appointment(c, ciphers, next);
  record_change(c, next, change->action, actor, now_ms, change->previous_start, times);
  return next;
}

}  // namespace

asio::awaitable<Result<Modified>> SchedulingStore::modify(std::string appointment_id, std::string actor,
                                                          Decide decide, ClientTimes times, IdempotencyRecord idem) {
  auto job = [keys = keys_.get(), appointment_id = std::move(appointment_id), actor = std::move(actor), decide = std::move(decide),
              times = std::move(times), idem = std::move(idem)](Connection& c) -> Result<Modified> {
    store::PracticeCiphers ciphers(c, *keys);
    return overlap_guard([&]() -> Result<Modified> {
      if (!idem.key.empty()) {
        auto seen = seen_before(c, idem);
        if (!seen) return seen.error();
        if (*seen) {
          auto as_now = load_appointment(c, ciphers, (*seen)->appointment_id);
          if (!as_now) return idempotency_key_reused();
          return Modified{std::move(*as_now), true};
        }
      }
      auto current = load_appointment(c, ciphers, appointment_id);
      if (!current) return Error{Code::kNotFound, "appointment_id: no such appointment", "appointment_id"};
      const auto now_ms = now_unix_ms();
      auto next = apply_change(c, ciphers, *current, actor, decide, now_ms, times);
      if (!next) return next.error();
      if (!idem.key.empty()) save_key(c, idem, next->id, std::nullopt, {}, now_ms);
      return Modified{std::move(*next), false};
    });
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<Appointment>>> SchedulingStore::modify_series(std::string series_id, Instant from,
                                                                                 std::string actor, Decide decide,
                                                                                 ClientTimes times) {
  auto job = [keys = keys_.get(), series_id = std::move(series_id), from, actor = std::move(actor), decide = std::move(decide),
              times = std::move(times)](Connection& c) -> Result<std::vector<Appointment>> {
    store::PracticeCiphers ciphers(c, *keys);
    return overlap_guard([&]() -> Result<std::vector<Appointment>> {
      static const std::string sql = select_appointments(
          "WHERE series_id = ?1 AND start_unix >= ?2 AND status IN ('booked', 'confirmed') ORDER BY start_unix");
      std::vector<Appointment> rows;
      {
        auto& st = c.prepare(sql);
        st.bind_all(series_id, to_unix(from));
        while (st.step()) rows.push_back(read_appointment(st, ciphers));
      }
      const auto now_ms = now_unix_ms();
      std::vector<Appointment> out;
      for (const auto& row : rows) {
        auto next = apply_change(c, ciphers, row, actor, decide, now_ms, times);
        if (next) out.push_back(std::move(*next));
      }
      return out;
    });
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<SchedulingStore::SeriesMove>> SchedulingStore::move_appointments(
    std::vector<Move> moves, std::string actor, ClientTimes times, IdempotencyRecord idem, EncodeMoves encode_response) {
  auto job = [keys = keys_.get(), moves = std::move(moves), actor = std::move(actor), times = std::move(times), idem = std::move(idem),
              encode_response = std::move(encode_response)](Connection& c) -> Result<SeriesMove> {
    store::PracticeCiphers ciphers(c, *keys);
    return overlap_guard([&]() -> Result<SeriesMove> {
      if (!idem.key.empty()) {
        auto seen = seen_before(c, idem);
        if (!seen) return seen.error();
        if (*seen) return SeriesMove{{}, std::move(*seen)};
      }
      std::vector<Appointment> current;
      current.reserve(moves.size());
      for (const auto& m : moves) {
        auto a = load_appointment(c, ciphers, m.appointment_id);
        if (!a || a->version != m.expected_version || !holds_time(a->status))
          return Error{Code::kFailedPrecondition,
                       "series_id: an occurrence changed while it was being moved; reload and try again",
                       "series_id"};
        current.push_back(std::move(*a));
      }
      // Take every moving row off the calendar first (the overlap trigger ignores a
      // cancelled row), so an occurrence may move into time another one is leaving;
      // each then lands with its real status and the checks and triggers see only
      // where things end up. An error below rolls this back with the rest.
      for (const auto& a : current) {
        auto& st = c.prepare("UPDATE appointments SET status = 'cancelled' WHERE id = ?1");
        st.bind_all(a.id);
        st.step();
      }
      const auto now_ms = now_unix_ms();
      std::vector<Appointment> out;
      out.reserve(moves.size());
      for (std::size_t i = 0; i < moves.size(); ++i) {
        const Appointment& cur = current[i];
        Appointment next = cur;
        next.start = moves[i].new_start;
        next.end = moves[i].new_start + (cur.end - cur.start);
        next.status = AppointmentStatus::kBooked;  // a new time needs a new confirmation
        next.version = cur.version + 1;
        next.updated_by = actor;
        next.updated_unix_ms = now_ms;
        if (overlaps_stored(c, next)) return Error{Code::kAlreadyExists, std::string(kOverlapMessage), "start_time"};
        if (held_by_other(c, next)) return Error{Code::kAlreadyExists, std::string(kHeldMessage), "start_time"};
        update_appointment(c, ciphers, next);
        record_change(c, next, "rescheduled", actor, now_ms, cur.start, times);
        out.push_back(std::move(next));
      }
      if (!idem.key.empty()) save_key(c, idem, std::nullopt, idem.series_id, encode_response(out), now_ms);
      return SeriesMove{std::move(out), std::nullopt};
    });
  };
  co_return co_await db_->write(std::move(job));
}

namespace {

OutboxEntry read_outbox_entry(const Statement& st, int first) {
  return OutboxEntry{st.column_int(first), st.column_text(first + 1), st.column_blob(first + 2)};
}

}  // namespace

asio::awaitable<Result<std::vector<OutboxEntry>>> SchedulingStore::unsent_events(int limit) {
  auto job = [limit](Connection& c) -> Result<std::vector<OutboxEntry>> {
    return query_all(
        c, "SELECT seq, event_id, payload FROM outbox WHERE sent_unix_ms IS NULL ORDER BY seq LIMIT ?1",
        [](const Statement& st) { return read_outbox_entry(st, 0); }, std::int64_t{limit});
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<EventPage>> SchedulingStore::events_since(std::int64_t after_seq, int limit) {
  auto job = [after_seq, limit](Connection& c) -> Result<EventPage> {
    // One statement, so the page and its bounds come from one snapshot. last_seq
    // comes from sqlite_sequence (AUTOINCREMENT's high-water mark), which pruning
    // does not lower; the page is LEFT JOINed so an empty page still has one row.
    struct Row {
      std::int64_t last_seq, oldest_seq;
      std::optional<OutboxEntry> entry;
    };
    auto rows = query_all(
        c,
        "SELECT m.last_seq, m.oldest_seq, o.seq, o.event_id, o.payload FROM (SELECT MAX(COALESCE((SELECT seq FROM "
        "sqlite_sequence WHERE name = 'outbox'), 0), COALESCE((SELECT MAX(seq) FROM outbox), 0)) AS last_seq, "
        "COALESCE((SELECT MIN(seq) FROM outbox), 0) AS oldest_seq) AS m LEFT JOIN (SELECT seq, event_id, payload "
        "FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2) AS o ON 1 ORDER BY o.seq",
        [](const Statement& st) {
          Row r{st.column_int(0), st.column_int(1), std::nullopt};
          if (!st.column_is_null(2)) r.entry = read_outbox_entry(st, 2);
          return r;
        },
        after_seq, std::int64_t{limit});
    EventPage page;
    if (rows.empty()) return page;
    page.last_seq = rows.front().last_seq;
    page.oldest_seq = rows.front().oldest_seq;
    for (auto& r : rows)
      if (r.entry) page.events.push_back(std::move(*r.entry));
    return page;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::int64_t>> SchedulingStore::prune_events(std::int64_t before_unix_ms, int batch) {
  auto job = [before_unix_ms, batch](Connection& c) -> Result<std::int64_t> {
    return std::int64_t{execute(c,
                                "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent_unix_ms IS NOT "
                                "NULL AND created_unix_ms < ?1 ORDER BY created_unix_ms LIMIT ?2)",
                                before_unix_ms, std::int64_t{batch})};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Status> SchedulingStore::mark_sent(std::vector<std::int64_t> seqs, std::int64_t now_ms) {
  auto job = [seqs = std::move(seqs), now_ms](Connection& c) -> Status {
    for (auto seq : seqs) execute(c, "UPDATE outbox SET sent_unix_ms = ?2 WHERE seq = ?1", seq, now_ms);
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

// ------------------------------------------------------------------ waitlist

namespace {

// "12345:540:1020;..." (weekday digits, start minute, end minute), empty for any time.
std::string encode_windows(const std::vector<WaitlistWindow>& windows) {
  std::string out;
  for (const auto& w : windows) {
    for (int d : w.weekdays) out += static_cast<char>('0' + d);
    out += ':' + std::to_string(w.start_minute) + ':' + std::to_string(w.end_minute) + ';';
  }
  return out;
}

std::vector<WaitlistWindow> decode_windows(std::string_view text) {
  std::vector<WaitlistWindow> out;
  while (!text.empty()) {
    auto end = text.find(';');
    auto item = text.substr(0, end);
    WaitlistWindow w;
    auto c1 = item.find(':');
    auto c2 = item.find(':', c1 + 1);
    if (c1 != std::string_view::npos && c2 != std::string_view::npos) {
      for (char ch : item.substr(0, c1)) w.weekdays.push_back(ch - '0');
      w.start_minute = std::stoi(std::string(item.substr(c1 + 1, c2 - c1 - 1)));
      w.end_minute = std::stoi(std::string(item.substr(c2 + 1)));
      out.push_back(std::move(w));
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

constexpr std::string_view kEntryColumns =
    "id, practice_id, therapist_id, client_id, type_id, first_date, last_date, windows, status, created_by, "
    "created_unix_ms";

WaitlistEntry read_entry(const Statement& st) {
  WaitlistEntry e;
  e.id = st.column_text(0);
  e.practice_id = st.column_text(1);
  e.therapist_id = st.column_text(2);
  e.client_id = st.column_text(3);
  e.type_id = st.column_text(4);
  e.first_date = date_column(st, 5);
  e.last_date = date_column(st, 6);
  e.preferred = decode_windows(st.column_text(7));
  e.status = st.column_text(8);
  e.created_by = st.column_text(9);
  e.created_unix_ms = st.column_int(10);
  return e;
}

constexpr std::string_view kOfferColumns =
    "id, entry_id, practice_id, therapist_id, client_id, type_id, type_name, time_zone, start_unix, end_unix, "
    "buffer_before_s, buffer_after_s, status, hold_expires_unix_ms, appointment_id, created_unix_ms, closed_unix_ms";

WaitlistOffer read_offer(const Statement& st) {
  WaitlistOffer o;
  o.id = st.column_text(0);
  o.entry_id = st.column_text(1);
  o.practice_id = st.column_text(2);
  o.therapist_id = st.column_text(3);
  o.client_id = st.column_text(4);
  o.type_id = st.column_text(5);
  o.type_name = st.column_text(6);
  o.time_zone = st.column_text(7);
  o.start = from_unix(st.column_int(8));
  o.end = from_unix(st.column_int(9));
  o.buffer_before_minutes = static_cast<int>(st.column_int(10) / 60);
  o.buffer_after_minutes = static_cast<int>(st.column_int(11) / 60);
  o.status = st.column_text(12);
  o.hold_expires_unix_ms = st.column_int(13);
  o.appointment_id = st.column_text(14);
  o.created_unix_ms = st.column_int(15);
  o.closed_unix_ms = st.column_int(16);
  return o;
}

std::optional<WaitlistOffer> load_offer(Connection& c, const std::string& id) {
  static const std::string sql = "SELECT " + std::string(kOfferColumns) + " FROM waitlist_offers WHERE id = ?1";
  auto& st = c.prepare(sql);
  st.bind(1, std::string_view(id));
  if (!st.step()) return std::nullopt;
  return read_offer(st);
}

// Closes a held offer: status, closed time, hold removed, entry -> `entry_status`.
void close_offer(Connection& c, WaitlistOffer& o, std::string_view status, std::string_view entry_status,
                 std::int64_t now_ms) {
  auto& up = c.prepare(
      "UPDATE waitlist_offers SET status = ?2, closed_unix_ms = ?3, appointment_id = ?4 WHERE id = ?1");
  up.bind_all(o.id, status, now_ms, o.appointment_id);
  up.step();
  auto& del = c.prepare("DELETE FROM slot_holds WHERE offer_id = ?1");
  del.bind(1, std::string_view(o.id));
  del.step();
  auto& entry = c.prepare("UPDATE waitlist_entries SET status = ?2 WHERE id = ?1 AND status = 'offered'");
  entry.bind_all(o.entry_id, entry_status);
  entry.step();
  o.status = std::string(status);
  o.closed_unix_ms = now_ms;
}

Error offer_not_open(const WaitlistOffer& o) {
  if (o.status == "held")
    return Error{Code::kFailedPrecondition, "offer_id: the hold on this time has expired", "offer_id"};
  return Error{Code::kFailedPrecondition, "offer_id: the offer is " + o.status, "offer_id"};
}

}  // namespace

asio::awaitable<Result<std::optional<IdempotencyRecord>>> SchedulingStore::insert_waitlist_entry(
    WaitlistEntry e, IdempotencyRecord idem) {
  auto job = [e = std::move(e), idem = std::move(idem)](Connection& c) -> Result<std::optional<IdempotencyRecord>> {
    if (!idem.key.empty()) {
      auto seen = seen_before(c, idem);
      if (!seen || *seen) return seen;
    }
    static const std::string sql = "INSERT INTO waitlist_entries (" + std::string(kEntryColumns) +
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
    auto& st = c.prepare(sql);
    st.bind_all(e.id, e.practice_id, e.therapist_id, e.client_id, e.type_id, format_date(e.first_date),
                format_date(e.last_date), encode_windows(e.preferred), e.status, e.created_by, e.created_unix_ms);
    st.step();
    if (!idem.key.empty()) save_key(c, idem, std::nullopt, std::nullopt, idem.response, e.created_unix_ms);
    return std::optional<IdempotencyRecord>();
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<WaitlistEntry>>> SchedulingStore::find_waitlist_entry(std::string id) {
  auto job = [id = std::move(id)](Connection& c) -> Result<std::optional<WaitlistEntry>> {
    static const std::string sql = "SELECT " + std::string(kEntryColumns) + " FROM waitlist_entries WHERE id = ?1";
    auto& st = c.prepare(sql);
    st.bind(1, std::string_view(id));
    if (!st.step()) return std::optional<WaitlistEntry>();
    return std::optional<WaitlistEntry>(read_entry(st));
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<WaitlistEntry>>> SchedulingStore::list_waitlist(
    std::string practice_id, std::optional<std::string> therapist_id, std::optional<std::string> client_id) {
  auto job = [practice_id = std::move(practice_id), therapist_id = std::move(therapist_id),
              client_id = std::move(client_id)](Connection& c) -> Result<std::vector<WaitlistEntry>> {
    static const std::string sql = "SELECT " + std::string(kEntryColumns) +
                                   " FROM waitlist_entries WHERE practice_id = ?1 AND status IN ('waiting', "
                                   "'offered') AND (?2 IS NULL OR therapist_id = ?2) AND (?3 IS NULL OR "
                                   "client_id = ?3) ORDER BY rowid LIMIT 1000";
    auto& st = c.prepare(sql);
    st.bind_all(practice_id, therapist_id, client_id);
    std::vector<WaitlistEntry> out;
    while (st.step()) out.push_back(read_entry(st));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<WaitlistEntry>>> SchedulingStore::waitlist_candidates(std::string therapist_id,
                                                                                         Instant start) {
  auto job = [therapist_id = std::move(therapist_id), start](Connection& c) -> Result<std::vector<WaitlistEntry>> {
    static const std::string sql =
        "SELECT " + std::string(kEntryColumns) +
        " FROM waitlist_entries e WHERE therapist_id = ?1 AND status = 'waiting' AND NOT EXISTS (SELECT 1 FROM "
        "waitlist_offers o WHERE o.entry_id = e.id AND o.start_unix = ?2) ORDER BY rowid LIMIT 1000";
    auto& st = c.prepare(sql);
    st.bind_all(therapist_id, to_unix(start));
    std::vector<WaitlistEntry> out;
    while (st.step()) out.push_back(read_entry(st));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<WaitlistOffer>>> SchedulingStore::leave_waitlist(std::string entry_id) {
  auto job = [entry_id = std::move(entry_id)](Connection& c) -> Result<std::optional<WaitlistOffer>> {
    std::optional<WaitlistOffer> withdrawn;
    {
      static const std::string sql =
          "SELECT " + std::string(kOfferColumns) + " FROM waitlist_offers WHERE entry_id = ?1 AND status = 'held'";
      auto& st = c.prepare(sql);
      st.bind(1, std::string_view(entry_id));
      if (st.step()) withdrawn = read_offer(st);
    }
    if (withdrawn) close_offer(c, *withdrawn, "withdrawn", "left", now_unix_ms());
    auto& up = c.prepare("UPDATE waitlist_entries SET status = 'left' WHERE id = ?1 AND status IN ('waiting', 'offered')");
    up.bind(1, std::string_view(entry_id));
    up.step();
    return withdrawn;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Status> SchedulingStore::create_offer(WaitlistOffer o) {
  auto job = [o = std::move(o)](Connection& c) -> Status {
    {
      auto& st = c.prepare("SELECT status FROM waitlist_entries WHERE id = ?1");
      st.bind(1, std::string_view(o.entry_id));
      if (!st.step() || st.column_text(0) != "waiting")
        return Error{Code::kFailedPrecondition, "entry_id: no longer waiting", "entry_id"};
    }
    const auto bb = std::chrono::minutes(o.buffer_before_minutes), ba = std::chrono::minutes(o.buffer_after_minutes);
    if (conflicts(blocking_near(c, o.therapist_id, o.start, o.end, ""), o.start, o.end, bb, ba))
      return Error{Code::kAlreadyExists, std::string(kOverlapMessage), "start_time"};
    // Any open hold, the same client's included: one freed time goes to one client.
    if (conflicts(holds_near(c, o.therapist_id, o.start, o.end, ""), o.start, o.end, bb, ba))
      return Error{Code::kAlreadyExists, std::string(kHeldMessage), "start_time"};
    static const std::string sql = "INSERT INTO waitlist_offers (" + std::string(kOfferColumns) +
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                                   "?17)";
    auto& ins = c.prepare(sql);
    ins.bind_all(o.id, o.entry_id, o.practice_id, o.therapist_id, o.client_id, o.type_id, o.type_name, o.time_zone,
                 to_unix(o.start), to_unix(o.end), std::int64_t{o.buffer_before_minutes} * 60,
                 std::int64_t{o.buffer_after_minutes} * 60, o.status, o.hold_expires_unix_ms, o.appointment_id,
                 o.created_unix_ms, o.closed_unix_ms);
    ins.step();
    auto& hold = c.prepare(
        "INSERT INTO slot_holds (offer_id, therapist_id, client_id, start_unix, end_unix, buffer_before_s, "
        "buffer_after_s, expires_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    hold.bind_all(o.id, o.therapist_id, o.client_id, to_unix(o.start), to_unix(o.end),
                  std::int64_t{o.buffer_before_minutes} * 60, std::int64_t{o.buffer_after_minutes} * 60,
                  o.hold_expires_unix_ms);
    hold.step();
    auto& entry = c.prepare("UPDATE waitlist_entries SET status = 'offered' WHERE id = ?1");
    entry.bind(1, std::string_view(o.entry_id));
    entry.step();
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<WaitlistOffer>>> SchedulingStore::find_offer(std::string id) {
  auto job = [id = std::move(id)](Connection& c) -> Result<std::optional<WaitlistOffer>> {
    return load_offer(c, id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<WaitlistOffer>>> SchedulingStore::list_offers(std::string practice_id,
                                                                                 std::optional<std::string> client_id,
                                                                                 bool include_closed) {
  auto job = [practice_id = std::move(practice_id), client_id = std::move(client_id),
              include_closed](Connection& c) -> Result<std::vector<WaitlistOffer>> {
    static const std::string sql = "SELECT " + std::string(kOfferColumns) +
                                   " FROM waitlist_offers WHERE practice_id = ?1 AND (?2 IS NULL OR client_id = ?2) "
                                   "AND (?3 = 1 OR status = 'held') ORDER BY status <> 'held', created_unix_ms "
                                   "DESC, rowid DESC LIMIT 200";
    auto& st = c.prepare(sql);
    st.bind_all(practice_id, client_id, include_closed ? 1 : 0);
    std::vector<WaitlistOffer> out;
    while (st.step()) out.push_back(read_offer(st));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<SchedulingStore::Accepted>> SchedulingStore::accept_offer(std::string offer_id,
                                                                                 Appointment candidate,
                                                                                 std::string actor,
                                                                                 ClientTimes times) {
  auto job = [keys = keys_.get(), offer_id = std::move(offer_id), candidate = std::move(candidate), actor = std::move(actor),
              times = std::move(times)](Connection& c) -> Result<Accepted> {
    store::PracticeCiphers ciphers(c, *keys);
    return overlap_guard([&]() -> Result<Accepted> {
      auto offer = load_offer(c, offer_id);
      if (!offer) return Error{Code::kNotFound, "offer_id: no such offer", "offer_id"};
      if (offer->status == "accepted") {
        auto booked = load_appointment(c, ciphers, offer->appointment_id);
        if (!booked) return Error{Code::kInternal, "accepted offer without its appointment", {}};
        return Accepted{std::move(*booked), std::move(*offer), true};
      }
      const auto now_ms = now_unix_ms();
      if (offer->status != "held" || offer->hold_expires_unix_ms <= now_ms) return offer_not_open(*offer);
      if (overlaps_stored(c, candidate))
        return Error{Code::kAlreadyExists, std::string(kOverlapMessage), "start_time"};
      if (held_by_other(c, candidate)) return Error{Code::kAlreadyExists, std::string(kHeldMessage), "start_time"};
      insert_appointment(c, ciphers, candidate);
      record_change(c, candidate, "booked", actor, now_ms, std::nullopt, times);
      offer->appointment_id = candidate.id;
      close_offer(c, *offer, "accepted", "booked", now_ms);
      return Accepted{std::move(candidate), std::move(*offer), false};
    });
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<WaitlistOffer>> SchedulingStore::decline_offer(std::string offer_id) {
  auto job = [offer_id = std::move(offer_id)](Connection& c) -> Result<WaitlistOffer> {
    auto offer = load_offer(c, offer_id);
    if (!offer) return Error{Code::kNotFound, "offer_id: no such offer", "offer_id"};
    const auto now_ms = now_unix_ms();
    if (offer->status != "held" || offer->hold_expires_unix_ms <= now_ms) return offer_not_open(*offer);
    close_offer(c, *offer, "declined", "waiting", now_ms);
    return std::move(*offer);
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<WaitlistOffer>>> SchedulingStore::expire_holds(std::int64_t now_ms) {
  auto job = [now_ms](Connection& c) -> Result<std::vector<WaitlistOffer>> {
    std::vector<WaitlistOffer> due;
    {
      static const std::string sql = "SELECT " + std::string(kOfferColumns) +
                                     " FROM waitlist_offers WHERE status = 'held' AND hold_expires_unix_ms <= ?1 "
                                     "ORDER BY hold_expires_unix_ms LIMIT 500";
      auto& st = c.prepare(sql);
      st.bind(1, now_ms);
      while (st.step()) due.push_back(read_offer(st));
    }
    for (auto& o : due) close_offer(c, o, "expired", "waiting", now_ms);
    return due;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<std::int64_t>>> SchedulingStore::next_hold_expiry() {
  auto job = [](Connection& c) -> Result<std::optional<std::int64_t>> {
    auto& st = c.prepare("SELECT MIN(hold_expires_unix_ms) FROM waitlist_offers WHERE status = 'held'");
    if (!st.step() || st.column_is_null(0)) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(st.column_int(0));
  };
  co_return co_await db_->read(std::move(job));
}

// ------------------------------------------------------------------ calendar feed

asio::awaitable<Status> SchedulingStore::rotate_feed_token(std::string therapist_id, std::string practice_id,
                                                           std::string token_sha256, std::string actor) {
  auto job = [therapist_id = std::move(therapist_id), practice_id = std::move(practice_id),
              token_sha256 = std::move(token_sha256), actor = std::move(actor)](Connection& c) -> Status {
    auto& revoke = c.prepare("UPDATE feed_tokens SET revoked = 1 WHERE therapist_id = ?1 AND revoked = 0");
    revoke.bind(1, std::string_view(therapist_id));
    revoke.step();
    auto& ins = c.prepare(
        "INSERT INTO feed_tokens (token_sha256, therapist_id, practice_id, revoked, created_by, created_unix_ms) "
        "VALUES (?1, ?2, ?3, 0, ?4, ?5)");
    ins.bind_all(store::Blob{token_sha256}, therapist_id, practice_id, actor, now_unix_ms());
    ins.step();
    return {};
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<SchedulingStore::FeedOwner>>> SchedulingStore::find_feed_token(
    std::string token_sha256) {
  auto job = [token_sha256 = std::move(token_sha256)](Connection& c) -> Result<std::optional<FeedOwner>> {
    auto& st = c.prepare("SELECT therapist_id, practice_id FROM feed_tokens WHERE token_sha256 = ?1 AND revoked = 0");
    st.bind(1, store::Blob{token_sha256});
    if (!st.step()) return std::optional<FeedOwner>();
    return std::optional<FeedOwner>(FeedOwner{st.column_text(0), st.column_text(1)});
  };
  co_return co_await db_->read(std::move(job));
}


}  // namespace alliance::scheduling
