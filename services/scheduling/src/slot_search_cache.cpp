#include "slot_search_cache.hpp"

#include <sqlite3.h>

#include <array>

namespace alliance::scheduling {
namespace {

// The SQL function the triggers call: a therapist's id, or NULL for "everything".
constexpr const char* kFunction = "slot_search_changed";

struct Watched {
  std::string_view table;
  bool per_therapist;  // rows carry therapist_id; otherwise a change affects every search
};
// Every table a slot search reads, directly or through the appointment type.
constexpr std::array<Watched, 10> kWatched{{
    {"appointments", true},
    {"availability", true},
    {"availability_weekly", true},
    {"availability_extra", true},
    {"availability_time_off", true},
    {"availability_changes", true},
    {"time_blocks", true},
    {"slot_holds", true},
    {"appointment_types", false},
    {"locations", false},
}};

std::string trigger_sql(const Watched& w) {
  const std::string table(w.table);
  const std::string call_new = w.per_therapist ? "slot_search_changed(NEW.therapist_id)" : "slot_search_changed(NULL)";
  const std::string call_old = w.per_therapist ? "slot_search_changed(OLD.therapist_id)" : "slot_search_changed(NULL)";
  const std::string name = "slot_search_" + table;
  return "CREATE TEMP TRIGGER " + name + "_insert AFTER INSERT ON " + table + " BEGIN SELECT " + call_new +
         "; END;\n"
         "CREATE TEMP TRIGGER " + name + "_update AFTER UPDATE ON " + table + " BEGIN SELECT " + call_old + ", " +
         call_new + "; END;\n"
         "CREATE TEMP TRIGGER " + name + "_delete AFTER DELETE ON " + table + " BEGIN SELECT " + call_old +
         "; END;\n";
}

void changed_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto* cache = static_cast<SlotSearchCache*>(sqlite3_user_data(ctx));
  if (argc == 1 && sqlite3_value_type(argv[0]) == SQLITE_TEXT) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const int n = sqlite3_value_bytes(argv[0]);
    cache->mark_from_trigger(std::string_view(text, static_cast<std::size_t>(n)));
  } else {
    cache->mark_from_trigger(std::nullopt);
  }
  sqlite3_result_null(ctx);
}

}  // namespace

std::vector<Booked> SlotInputs::blocking_for(std::string_view holder_id, std::int64_t now_unix_ms) const {
  std::vector<Booked> out;
  out.reserve(blocking.size() + holds.size());
  out.insert(out.end(), blocking.begin(), blocking.end());
  for (const HeldTime& h : holds)
    if (h.client_id != holder_id && h.expires_unix_ms > now_unix_ms) out.push_back(h.times);
  return out;
}

void SlotSearchCache::attach(store::Connection& writer) {
  const int rc = sqlite3_create_function_v2(writer.handle(), kFunction, 1, SQLITE_UTF8, this, &changed_function,
                                            nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw store::StoreError(rc, "cannot register slot_search_changed");
  for (const Watched& w : kWatched) writer.exec(trigger_sql(w));
}

void SlotSearchCache::mark_from_trigger(std::optional<std::string_view> therapist_id) {
  std::lock_guard lock(mu_);
  if (!therapist_id) {
    pending_all_ = true;
  } else if (!pending_all_) {
    pending_.emplace(*therapist_id);
  }
}

void SlotSearchCache::publish() {
  std::lock_guard lock(mu_);
  if (!pending_all_ && pending_.empty()) return;
  const std::uint64_t v = ++version_;
  if (pending_all_ || changed_at_.size() + pending_.size() > kMaxTherapists) {
    // Everything is stale; remembering per therapist is no longer needed.
    all_changed_at_ = v;
    changed_at_.clear();
    stats_.invalidations += inputs_.size() + types_.size();
    inputs_.clear();
    if (pending_all_) types_.clear();
  } else {
    for (const std::string& t : pending_) {
      changed_at_[t] = v;
      stats_.invalidations += inputs_.erase(t);
    }
  }
  pending_.clear();
  pending_all_ = false;
}

SlotSearchCache::Ticket SlotSearchCache::ticket() const {
  std::lock_guard lock(mu_);
  return Ticket{version_};
}

bool SlotSearchCache::changed_since(const std::string& therapist_id, Ticket ticket) const {
  if (all_changed_at_ > ticket.version) return true;
  auto it = changed_at_.find(therapist_id);
  return it != changed_at_.end() && it->second > ticket.version;
}

std::shared_ptr<const SlotInputs> SlotSearchCache::find(const std::string& therapist_id, Instant from,
                                                        Instant to) const {
  std::lock_guard lock(mu_);
  auto it = inputs_.find(therapist_id);
  if (it == inputs_.end() || it->second->from > from || it->second->to < to) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  return it->second;
}

void SlotSearchCache::put(const std::string& therapist_id, Ticket ticket, std::shared_ptr<const SlotInputs> inputs) {
  std::lock_guard lock(mu_);
  if (changed_since(therapist_id, ticket)) return;
  if (inputs_.size() >= kMaxTherapists && !inputs_.count(therapist_id)) inputs_.clear();
  inputs_[therapist_id] = std::move(inputs);
}

std::optional<AppointmentType> SlotSearchCache::find_type(const std::string& type_id) const {
  std::lock_guard lock(mu_);
  auto it = types_.find(type_id);
  if (it == types_.end()) return std::nullopt;
  return it->second;
}

void SlotSearchCache::put_type(Ticket ticket, AppointmentType type) {
  std::lock_guard lock(mu_);
  if (all_changed_at_ > ticket.version) return;
  if (types_.size() >= kMaxTypes && !types_.count(type.id)) types_.clear();
  std::string id = type.id;
  types_[id] = std::move(type);
}

SlotSearchCache::Stats SlotSearchCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace alliance::scheduling
