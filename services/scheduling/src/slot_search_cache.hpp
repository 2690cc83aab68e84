#pragma once
// SlotSearchCache: what slot searches read from the store (a therapist's
// availability, what blocks their time, appointment types), kept in memory so a
// search costs no store round trip. Thread-safe (one mutex): the service's executor
// looks up and fills it, the store's writer thread invalidates it.
//
// Invalidation rides on the database itself, so no write path can forget it:
// attach() registers a SQL function and TEMP triggers on the writer connection. Any
// insert, update or delete on a table a search reads (appointments, availability and
// its weekly/extra/time-off/dated rows, time blocks, waitlist holds: per therapist;
// appointment types and locations: everything) marks what it touched, and
// publish() (DatabaseOptions::after_write: after the COMMIT, before any writer's
// caller resumes) drops those entries. So the answer "saved" to a change is sent
// only after the cache forgot what the change made stale, and the very next search
// reads the store again. A table that starts to matter to searches needs its trigger
// in kWatched (slot_search_cache.cpp).
//
// A load races with writes: take a ticket() before reading the store and put() with
// it; put() keeps nothing if a change to that therapist (or to everything) was
// published after the ticket, since the read may predate it.
//
// Holds expire with time, without a write: entries keep every hold with its holder
// and expiry, and each search filters them (blocking_for).
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "alliance/store/connection.hpp"
#include "scheduling_model.hpp"

namespace alliance::scheduling {

// A waitlist hold as stored: blocks its time for every client but its holder until it expires.
struct HeldTime {
  Booked times;
  std::string client_id;
  std::int64_t expires_unix_ms = 0;
};

// One therapist's search inputs, read in one store snapshot.
struct SlotInputs {
  std::optional<TherapistAvailability> availability;  // nullopt: the therapist has none
  Instant from{}, to{};           // `blocking` and `holds` hold everything that can block a time in [from, to)
  std::vector<Booked> blocking;   // booked/confirmed appointments and time-block occurrences
  std::vector<HeldTime> holds;    // every hold, active or expired, of every client

  // What blocks the time for `holder_id` ("" = any staff member: every client's
  // hold blocks) at `now_unix_ms`: blocking plus the holds of other clients still active.
  std::vector<Booked> blocking_for(std::string_view holder_id, std::int64_t now_unix_ms) const;
};

class SlotSearchCache {
 public:
  // At most this many therapists are kept; one more empties the cache (rare: a
  // practice has far fewer therapists than this).
  static constexpr std::size_t kMaxTherapists = 4096;
  static constexpr std::size_t kMaxTypes = 4096;

  // Registers the function and triggers on `writer` (the store's writer connection,
  // on its thread, before any other write). Throws store::StoreError.
  void attach(store::Connection& writer);
  // After every transaction of the writer (committed or not): drops what it touched.
  void publish();
  // The triggers' SQL function (writer thread, inside a transaction): a therapist's
  // rows changed, or (nullopt) something every search reads.
  void mark_from_trigger(std::optional<std::string_view> therapist_id);

  struct Ticket {
    std::uint64_t version = 0;
  };
  Ticket ticket() const;

  // Inputs of `therapist_id` covering [from, to), or null.
  std::shared_ptr<const SlotInputs> find(const std::string& therapist_id, Instant from, Instant to) const;
  void put(const std::string& therapist_id, Ticket ticket, std::shared_ptr<const SlotInputs> inputs);

  std::optional<AppointmentType> find_type(const std::string& type_id) const;
  void put_type(Ticket ticket, AppointmentType type);

  struct Stats {
    std::uint64_t hits = 0, misses = 0, invalidations = 0;
  };
  Stats stats() const;

 private:
  bool changed_since(const std::string& therapist_id, Ticket ticket) const;  // mu_ held

  mutable std::mutex mu_;
  std::uint64_t version_ = 0;  // bumped by every publish() that dropped something
  std::uint64_t all_changed_at_ = 0;
  std::unordered_map<std::string, std::uint64_t> changed_at_;  // therapist -> version of their last change
  std::unordered_map<std::string, std::shared_ptr<const SlotInputs>> inputs_;
  std::unordered_map<std::string, AppointmentType> types_;
  // Marked by the current writer transaction, published after it ends (writer thread only).
  std::unordered_set<std::string> pending_;
  bool pending_all_ = false;
  mutable Stats stats_;
};

}  // namespace alliance::scheduling
