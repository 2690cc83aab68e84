#pragma once
// SchedulingStore: scheduling's SQLite database (appointment types, availability,
// appointments, their history, idempotency keys and the event outbox) behind
// awaitable calls. Reads run on the store's reader threads, writes on its single
// writer thread, so every write job below is one serialized transaction; calls
// resume on the awaiting coroutine's executor, after COMMIT for writes.
//
// Double booking is impossible in the database itself: each write job re-checks
// overlap inside its transaction, and BEFORE INSERT/UPDATE triggers on
// `appointments` RAISE(ABORT) when a booked/confirmed row would overlap another
// of the same therapist (the buffer rule of domain/slots.hpp), so even code that
// forgets the check cannot double book. Every change appends to
// `appointment_history` and writes its AppointmentEvent to `outbox` in the same
// transaction; EventPublisher sends the outbox to Redis after the commit.
//
// The outbox is the durable event feed: rows keep their increasing `seq` (commit
// order: one writer) after they are published, until prune_events removes
// published rows older than the retention; events_since serves them in seq order.
// seq is AUTOINCREMENT, so a pruned number is never handed out again.
//
// Waitlist holds (migration 2): a held offer's row in `slot_holds` blocks its time,
// with its buffers, for every client but its holder until it expires. The code
// checks inside book/modify and BEFORE INSERT/UPDATE triggers refuse it with
// kHeldMessage. Calendar feed tokens are stored as SHA-256 only.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/store/database.hpp"
#include "alliance/store/sealed_fields.hpp"
#include "scheduling_model.hpp"
#include "slot_search_cache.hpp"

namespace alliance::scheduling {

// The message a refused overlap carries, from the code check and the trigger alike.
inline constexpr std::string_view kOverlapMessage = "start_time: overlaps another appointment or its buffer";

// The message a booking refused because of another client's waitlist hold carries.
inline constexpr std::string_view kHeldMessage =
    "start_time: held for a waitlisted client who was offered this time; try another time";

// The message a booking or reschedule into a room already booked at that time carries.
inline constexpr std::string_view kRoomTakenMessage = "room: the room is booked at an overlapping time";

// What an idempotency key is bound to: the caller, the key, the request's digest
// and what it produced.
struct IdempotencyRecord {
  std::string caller_id;
  std::string key;
  std::string request_hash;    // sha256 of the canonical request
  std::string appointment_id;  // single booking
  std::string series_id;       // series booking
  std::string response;        // series booking: the serialized BookSeriesResponse
};

// What book() did.
struct BookingOutcome {
  // Set when the key was seen before with the same request: nothing was written.
  std::optional<IdempotencyRecord> replay;
  // Per candidate: the saved appointment, or nullopt (skipped: its time or room was taken).
  std::vector<std::optional<Appointment>> booked;
  // Per candidate: why it was skipped ("" when booked), naming the field.
  std::vector<std::string> skipped_because;
};
// Books one appointment or a series in one transaction. `candidates` are complete
// rows (ids, status booked, version 1, created_*); the store re-checks overlap (the
// therapist's, a hold's, the room's) for each against the database and the
// candidates accepted before it.
struct BookingRequest {
  std::vector<Appointment> candidates;
  IdempotencyRecord idempotency;  // stored with the result
  bool all_or_nothing = true;     // a conflicting candidate fails the whole request
  // Series only: builds the response stored with the key from the outcome (called
  // inside the transaction, on the writer thread).
  std::function<std::string(const BookingOutcome&)> encode_response;
  ClientTimes times;  // what the events show beside each booked row
};
// What modify() did: the appointment after the change, or as it is now when the
// change's idempotency key was seen before (replayed: nothing was changed).
struct Modified {
  Appointment appointment;
  bool replayed = false;
};

// A decided change to one appointment, made by the handler's rule from the row as
// it is inside the transaction.
struct Change {
  Appointment next;                     // the row after the change (version and updated_* set by the store)
  std::string action;                   // history action and event type: "confirmed", "cancelled", ...
  std::optional<Instant> previous_start;  // "rescheduled"
};
// Runs on the writer thread: pure, thread-safe, no I/O. An error refuses the change.
using Decide = std::function<Result<Change>(const Appointment& current)>;

// One appointment of a multi-appointment move (a series' future occurrences).
struct Move {
  std::string appointment_id;
  Instant new_start;
  std::int64_t expected_version = 0;  // the version the caller planned from
};

struct AppointmentQuery {
  std::string practice_id;
  std::optional<std::string> therapist_id;
  std::optional<std::string> client_id;
  std::optional<AppointmentStatus> status;
  Instant from{};
  Instant to{};
  int limit = 1000;
};

// An event in the outbox.
struct OutboxEntry {
  std::int64_t seq = 0;
  std::string event_id;
  std::string payload;  // serialized AppointmentEvent
};

// One page of the outbox in seq order, read in one snapshot.
struct EventPage {
  std::vector<OutboxEntry> events;  // seq > after_seq, ascending
  std::int64_t last_seq = 0;        // the highest seq ever written (pruned ones included); 0 if none
  std::int64_t oldest_seq = 0;      // the lowest seq still kept; 0 if none
};

// scheduling.db's schema steps, oldest first (tests open a database at an older version).
std::vector<store::Migration> scheduling_migrations();
// The version that seals cancellation reasons, time-block reasons and notes.
inline constexpr int kSealedTextVersion = 9;
// The version that seals location names and addresses (and their copies in appointments).
inline constexpr int kSealedLocationsVersion = 10;

class SchedulingStore {
 public:
  // Opens (creating) the database file and applies scheduling's migrations (sealing
  // the free text of a database from before v9 in place). Data keys wrapped by
  // keys.previous_kek are re-wrapped under keys.kek; a KEK that opens no data key fails
  // the open with kFailedPrecondition naming keys.kek_key.
  static Result<std::unique_ptr<SchedulingStore>> open(const std::filesystem::path& path, store::KekPair keys);
  // `cache` (optional) must be the one whose publish() is `db`'s after_write.
  SchedulingStore(std::unique_ptr<store::Database> db, std::shared_ptr<store::DataKeys> keys,
                  std::shared_ptr<SlotSearchCache> cache = nullptr);
  // How many data keys this open re-wrapped from the previous KEK (a rotation).
  int rewrapped_data_keys() const { return rewrapped_data_keys_; }
  const std::string& kek_id() const { return keys_->kek_id(); }

  // Name taken in the practice -> kAlreadyExists field name. With a key in `idem`
  // seen before (same request), nothing is created and the type that key made is
  // answered as it is now, with `replayed` set.
  struct MadeType {
    AppointmentType type;
    bool replayed = false;
  };
  asio::awaitable<Result<MadeType>> create_type(AppointmentType type, IdempotencyRecord idem);
  asio::awaitable<Result<std::optional<AppointmentType>>> find_type(std::string type_id);
  asio::awaitable<Result<std::vector<AppointmentType>>> list_types(std::string practice_id);

  // ---- locations. Name taken in the practice -> kAlreadyExists field name.
  asio::awaitable<Status> create_location(Location location);
  asio::awaitable<Result<std::optional<Location>>> find_location(std::string location_id);
  asio::awaitable<Result<std::vector<Location>>> list_locations(std::string practice_id);  // by name
  // Applies `change` to the location inside one transaction (apply_location_change's
  // errors; another location of the practice with the new name -> kAlreadyExists on
  // name; none with this id in the practice -> kNotFound on location_id).
  asio::awaitable<Result<Location>> update_location(std::string practice_id, std::string location_id,
                                                    LocationChange change, std::string by, std::int64_t at_unix_ms);
  // The practice's default video link ("" removes it).
  asio::awaitable<Status> set_practice_video_link(PracticeVideoLink link);
  asio::awaitable<Result<std::optional<PracticeVideoLink>>> practice_video_link(std::string practice_id);

  // Replaces the therapist's whole availability.
  asio::awaitable<Status> set_availability(TherapistAvailability availability);
  asio::awaitable<Result<std::optional<TherapistAvailability>>> find_availability(std::string therapist_id);

  // ---- what slot searches read, from the SlotSearchCache while nothing it holds
  // has changed (see slot_search_cache.hpp), else from the store.
  // find_type, cached.
  asio::awaitable<Result<std::optional<AppointmentType>>> search_type(std::string type_id);
  // The therapist's availability and everything that can block a time in [from, to)
  // (as blocking() with every hold, see SlotInputs::blocking_for), in one snapshot.
  asio::awaitable<Result<std::shared_ptr<const SlotInputs>>> slot_inputs(std::string therapist_id, Instant from,
                                                                        Instant to);
  SlotSearchCache::Stats slot_cache_stats() const { return cache_ ? cache_->stats() : SlotSearchCache::Stats{}; }
  // How much wider than asked slot_inputs reads on a miss: from - margin to from + span.
  static constexpr std::chrono::days kSlotInputsMargin{2};
  static constexpr std::chrono::days kSlotInputsSpan{64};

  // ---- time blocks: each occurrence blocks time like an appointment without buffers
  // (in blocking() and in every in-transaction overlap re-check).

  asio::awaitable<Status> create_time_block(TimeBlock block);
  // The therapist's blocks with an occurrence that may overlap [from, to), by first start.
  asio::awaitable<Result<std::vector<TimeBlock>>> list_time_blocks(std::string therapist_id, Instant from, Instant to);
  asio::awaitable<Result<std::optional<TimeBlock>>> find_time_block(std::string block_id);
  // Removes the block and every occurrence of it; false if there was none.
  asio::awaitable<Result<bool>> delete_time_block(std::string block_id);

  // Therapists of the practice who have availability, by id.
  asio::awaitable<Result<std::vector<std::string>>> therapists_with_availability(std::string practice_id);

  // ---- staff notes on appointments (one per appointment; an empty note removes it)
  asio::awaitable<Status> set_note(AppointmentNote note);
  // The notes of those of `appointment_ids` that have one.
  asio::awaitable<Result<std::vector<AppointmentNote>>> notes(std::vector<std::string> appointment_ids);

  asio::awaitable<Result<std::optional<Appointment>>> find_appointment(std::string appointment_id);
  // Booked/confirmed appointments and time-block occurrences of the therapist that
  // could block time in [from, to), except `exclude_id` (the appointment being moved).
  // With `holds_except` set, active waitlist holds of every client but that one are
  // included too (empty string: every hold).
  asio::awaitable<Result<std::vector<Booked>>> blocking(std::string therapist_id, Instant from, Instant to,
                                                        std::string exclude_id = {},
                                                        std::optional<std::string> holds_except = std::nullopt);
  // Earliest first, at most q.limit + 1 rows (one more tells "truncated").
  asio::awaitable<Result<std::vector<Appointment>>> list_appointments(AppointmentQuery q);
  // Every occurrence of a series, earliest first.
  asio::awaitable<Result<std::vector<Appointment>>> series_appointments(std::string series_id);
  asio::awaitable<Result<std::vector<HistoryEntry>>> history(std::string appointment_id);

  asio::awaitable<Result<std::optional<IdempotencyRecord>>> find_idempotency(std::string caller_id,
                                                                             std::string key);
  // The key exists with another request -> kAlreadyExists field idempotency_key; with
  // the same request -> outcome.replay. all_or_nothing and a conflict -> kAlreadyExists
  // field start_time (kOverlapMessage), nothing saved.
  asio::awaitable<Result<BookingOutcome>> book(BookingRequest request, std::string actor_user_id);

  // Applies `decide` to the appointment inside one transaction: bumps version, sets
  // updated_by/at, re-checks overlap if it moved (the trigger backs it), appends
  // history and the outbox event (showing `times`). Unknown id -> kNotFound field
  // appointment_id. With an idempotency key (idempotency.key not empty) the key is
  // stored with the appointment id in the same transaction; a key seen before with
  // the same request_hash changes nothing (replayed), with another -> kAlreadyExists
  // field idempotency_key.
  asio::awaitable<Result<Modified>> modify(std::string appointment_id, std::string actor_user_id, Decide decide,
                                           ClientTimes times, IdempotencyRecord idempotency);
  // Applies `decide` to every booked/confirmed appointment of the series starting at
  // or after `from`, in one transaction; appointments `decide` refuses are left alone.
  asio::awaitable<Result<std::vector<Appointment>>> modify_series(std::string series_id, Instant from,
                                                                  std::string actor_user_id, Decide decide,
                                                                  ClientTimes times);

  // Moves every appointment of `moves` in one transaction, all or nothing: each must
  // still be booked/confirmed at `expected_version` (else kFailedPrecondition field
  // series_id); the moving rows leave their old times first, so one may take time
  // another is leaving; then each lands at its new start (same duration and buffers),
  // status booked, version + 1, with history and a "rescheduled" event (previous
  // start). A conflict at a new time -> kAlreadyExists field start_time, nothing moved.
  // With a key in `idem`, the answer encode_response(moved rows) is stored with it in
  // the same transaction; a key already used (a racing retry) answers its record in
  // `replay` and moves nothing.
  struct SeriesMove {
    std::vector<Appointment> moved;
    std::optional<IdempotencyRecord> replay;
  };
  using EncodeMoves = std::function<std::string(const std::vector<Appointment>&)>;
  asio::awaitable<Result<SeriesMove>> move_appointments(std::vector<Move> moves, std::string actor_user_id,
                                                        ClientTimes times, IdempotencyRecord idem,
                                                        EncodeMoves encode_response);

  // Oldest unsent events first.
  asio::awaitable<Result<std::vector<OutboxEntry>>> unsent_events(int limit);
  asio::awaitable<Status> mark_sent(std::vector<std::int64_t> seqs, std::int64_t now_unix_ms);
  // At most `limit` events with seq > after_seq, published or not, ascending, with
  // last_seq and oldest_seq from the same snapshot (one read).
  asio::awaitable<Result<EventPage>> events_since(std::int64_t after_seq, int limit);
  // Deletes up to `batch` events written before `before_unix_ms` that were already
  // published, oldest first; an unpublished event is never deleted. The number deleted
  // (less than `batch`: nothing more is due).
  asio::awaitable<Result<std::int64_t>> prune_events(std::int64_t before_unix_ms, int batch);

  // ---- waitlist (holds expire by the wall clock, now_unix_ms())

  // With an idempotency key (idempotency.key not empty) the key and idempotency.response
  // are stored in the same transaction; a key seen before with the same request_hash
  // answers its record and writes nothing, with another -> kAlreadyExists field
  // idempotency_key. Without a key: nullopt once inserted.
  asio::awaitable<Result<std::optional<IdempotencyRecord>>> insert_waitlist_entry(WaitlistEntry entry,
                                                                                  IdempotencyRecord idempotency);
  asio::awaitable<Result<std::optional<WaitlistEntry>>> find_waitlist_entry(std::string entry_id);
  // Active entries (waiting/offered) of the practice, optionally one therapist's or one
  // client's, in join order (at most 1000).
  asio::awaitable<Result<std::vector<WaitlistEntry>>> list_waitlist(std::string practice_id,
                                                                    std::optional<std::string> therapist_id,
                                                                    std::optional<std::string> client_id);
  // Waiting entries of the therapist never offered the slot starting at `start`, in join order.
  asio::awaitable<Result<std::vector<WaitlistEntry>>> waitlist_candidates(std::string therapist_id, Instant start);
  // Marks the entry "left" and withdraws its open offer (returned, to pass on).
  asio::awaitable<Result<std::optional<WaitlistOffer>>> leave_waitlist(std::string entry_id);
  // Saves a held offer and its hold, entry -> "offered", in one transaction. The entry no
  // longer waiting -> kFailedPrecondition; the time taken by an appointment or another
  // hold -> kAlreadyExists field start_time.
  asio::awaitable<Status> create_offer(WaitlistOffer offer);
  asio::awaitable<Result<std::optional<WaitlistOffer>>> find_offer(std::string offer_id);
  // Newest first, open ("held") ones first; at most 200.
  asio::awaitable<Result<std::vector<WaitlistOffer>>> list_offers(std::string practice_id,
                                                                  std::optional<std::string> client_id,
                                                                  bool include_closed);
  struct Accepted {
    Appointment appointment;
    WaitlistOffer offer;
    bool replayed = false;  // the offer was accepted before: nothing new was booked
  };
  // Books `candidate` for the offer's client and closes the offer ("accepted", entry
  // "booked", hold removed), in one transaction with the usual history and event.
  // Already accepted -> that appointment, replayed. Not held or expired ->
  // kFailedPrecondition field offer_id.
  asio::awaitable<Result<Accepted>> accept_offer(std::string offer_id, Appointment candidate, std::string actor,
                                                 ClientTimes times);
  // A held offer -> "declined" (entry back to waiting, hold removed); else kFailedPrecondition.
  asio::awaitable<Result<WaitlistOffer>> decline_offer(std::string offer_id);
  // Held offers whose hold ran out by `now_ms` -> "expired" (entries back to waiting).
  asio::awaitable<Result<std::vector<WaitlistOffer>>> expire_holds(std::int64_t now_ms);
  // The earliest hold expiry still ahead or overdue, if any hold is open.
  asio::awaitable<Result<std::optional<std::int64_t>>> next_hold_expiry();

  // ---- calendar feed

  // Revokes every feed token of the therapist and stores the new one's digest.
  asio::awaitable<Status> rotate_feed_token(std::string therapist_id, std::string practice_id,
                                            std::string token_sha256, std::string actor);
  struct FeedOwner {
    std::string therapist_id;
    std::string practice_id;
  };
  // The owner of a live (not revoked) token digest.
  asio::awaitable<Result<std::optional<FeedOwner>>> find_feed_token(std::string token_sha256);

  store::Database& database() { return *db_; }

 private:
  std::shared_ptr<store::DataKeys> keys_;
  int rewrapped_data_keys_ = 0;
  std::unique_ptr<store::Database> db_;
  std::shared_ptr<SlotSearchCache> cache_;  // null: every search reads the store
};

}  // namespace alliance::scheduling
