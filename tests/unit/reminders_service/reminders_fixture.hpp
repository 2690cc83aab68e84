#pragma once
// What the reminders component tests share: a real ReminderStore (SQLite file in a
// temp dir), driven from the test thread through IoTest, and helpers to describe
// scheduling's appointment events. Store tests pass "now" explicitly: Monday
// 2030-01-07 12:00Z; the appointment they use starts Wednesday 2030-01-09 15:00Z in
// the client's zone UTC, so the default policy (24 h and 2 h before, quiet hours
// 21:00-08:00) plans 2030-01-08 15:00Z and 2030-01-09 13:00Z, neither moved.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "alliance/core/ids.hpp"
#include "alliance/store/query.hpp"
#include "io_test.hpp"
#include "people_directory.hpp"
#include "process.hpp"
#include "reminder_store.hpp"

// Not in an anonymous namespace: the database lambdas below instantiate templates of
// store/database.hpp, and g++ refuses members of no linkage there (-Wsubobject-linkage).
namespace alliance::reminders {

using namespace std::chrono_literals;

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kHourMs = 60 * kMinuteMs;
constexpr std::int64_t kDayMs = 24 * kHourMs;

// Unix milliseconds of a UTC date and time.
inline std::int64_t utc_ms(int y, unsigned m, unsigned d, int hour, int minute = 0) {
  const std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
  return std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch()).count() + hour * kHourMs +
         minute * kMinuteMs;
}

constexpr const char* kPractice = "practice-1";
constexpr const char* kOtherPractice = "practice-2";
constexpr const char* kAdmin = "admin-1";
constexpr const char* kDesk = "desk-1";
constexpr const char* kTherapist = "therapist-1";
constexpr const char* kTherapist2 = "therapist-2";
constexpr const char* kClient = "client-1";
constexpr const char* kClient2 = "client-2";
constexpr const char* kOtherAdmin = "admin-9";
constexpr const char* kOtherDesk = "desk-9";
constexpr const char* kType = "type-1";

// An appointment as a scheduling event describes it (practice 1, client 1, therapist 1, zone UTC).
inline AppointmentRow appointment(const std::string& id, std::int64_t version, const std::string& status,
                                  std::int64_t start_ms, const std::string& client = kClient,
                                  const std::string& therapist = kTherapist) {
  AppointmentRow a;
  a.id = id;
  a.practice_id = kPractice;
  a.client_id = client;
  a.therapist_id = therapist;
  a.type_id = kType;
  a.status = status;
  a.client_zone = "UTC";
  a.start_ms = start_ms;
  a.version = version;
  a.late_cancel_ms = start_ms - kDayMs;
  return a;
}

inline EventInput event(std::int64_t seq, AppointmentRow a, std::int64_t occurred_ms) {
  EventInput e;
  e.seq = seq;
  e.appointment = std::move(a);
  e.occurred_ms = occurred_ms;
  return e;
}

// A policy as an admin would give it (must be valid).
inline Policy policy(const std::vector<int>& offsets, const std::string& quiet_start = "",
                     const std::string& quiet_end = "", bool show_therapist = false) {
  auto p = parse_policy(offsets, {}, quiet_start, quiet_end, show_therapist);
  if (!p) throw std::runtime_error("bad test policy: " + p.error().message);
  return *p;
}

// identity's answers, in memory.
class FakePeople final : public PeopleDirectory {
 public:
  void add(const std::string& id, const std::string& practice, const std::string& name, const std::string& zone = "") {
    people_.users[id] = Person{id, practice, name, zone};
  }
  void name_practice(const std::string& id, const std::string& name) { people_.practice_names[id] = name; }
  asio::awaitable<Result<People>> lookup(std::vector<std::string> user_ids) override {
    ++lookups;
    People out;
    for (const auto& id : user_ids) {
      auto it = people_.users.find(id);
      if (it == people_.users.end()) continue;
      out.users[id] = it->second;
      if (auto p = people_.practice_names.find(it->second.practice_id); p != people_.practice_names.end())
        out.practice_names[p->first] = p->second;
    }
    co_return out;
  }
  int lookups = 0;

 private:
  People people_;
};

class ReminderStoreTest : public testing::IoTest {
 protected:
  void SetUp() override { store_ = open_store(); }
  void TearDown() override {
    io_.poll();
    store_.reset();
  }

  // Another ReminderStore on the same file, as another alliance-reminders process would open it.
  std::unique_ptr<ReminderStore> open_store() {
    auto s = ReminderStore::open(dir_.path() / "reminders.db");
    if (!s) throw std::runtime_error("open: " + s.error().message);
    return std::move(*s);
  }

  // Applies `events` from the stored cursor; fails the test on a storage error.
  ApplyResult apply(std::vector<EventInput> events, std::int64_t now_ms, ReminderStore* on = nullptr) {
    auto& s = on ? *on : *store_;
    auto cursor = run(s.cursor());
    EXPECT_TRUE(cursor.ok());
    auto r = run(s.apply_events(cursor.ok() ? *cursor : 0, std::move(events), now_ms));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : ApplyResult{};
  }
  // One event with the next seq.
  ApplyResult apply_one(AppointmentRow a, std::int64_t now_ms, std::int64_t occurred_ms = 0) {
    auto cursor = run(store_->cursor());
    std::vector<EventInput> events{event(*cursor + 1, std::move(a), occurred_ms ? occurred_ms : now_ms)};
    return apply(std::move(events), now_ms);
  }

  std::vector<ReminderRow> reminders_of(const std::string& appointment_id) {
    auto r = run(store_->reminders_of(appointment_id));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::vector<ReminderRow>{};
  }
  static std::vector<ReminderRow> in_state(const std::vector<ReminderRow>& rows, const std::string& state) {
    std::vector<ReminderRow> out;
    std::copy_if(rows.begin(), rows.end(), std::back_inserter(out),
                 [&](const ReminderRow& r) { return r.state == state; });
    return out;
  }
  ReminderRow reminder(const std::string& id) {
    auto rows = run(store_->database().read([id](store::Connection& c) -> Result<std::vector<std::string>> {
      return store::query_all(c, "SELECT appointment_id FROM reminders WHERE id = ?",
                              [](store::Statement& s) { return s.column_text(0); }, id);
    }));
    if (!rows || rows->empty()) return {};
    for (auto& r : reminders_of(rows->front()))
      if (r.id == id) return r;
    return {};
  }
  int count_reminders() {
    auto n = run(store_->database().read([](store::Connection& c) -> Result<std::int64_t> {
      return store::query_one(c, "SELECT COUNT(*) FROM reminders", [](store::Statement& s) { return s.column_int(0); })
          .value_or(0);
    }));
    return n.ok() ? static_cast<int>(*n) : -1;
  }

  std::vector<Claim> claim(ReminderStore& s, const std::string& owner, std::int64_t now_ms, std::int64_t due_before_ms,
                           std::int64_t lease_ms = 1000) {
    auto r = run(s.claim_due(owner, now_ms, due_before_ms, lease_ms, 100));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::vector<Claim>{};
  }
  std::vector<Fired> fire(ReminderStore& s, const std::string& owner, const std::vector<Claim>& claims,
                          std::int64_t now_ms, std::int64_t lease_ms = 1000) {
    auto r = run(s.fire(owner, claims, now_ms, lease_ms));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::vector<Fired>{};
  }
  // Claims and fires every planned reminder of the store as `owner` at `now_ms`.
  std::vector<Fired> fire_all(std::int64_t now_ms) {
    auto claims = claim(*store_, "test", now_ms, now_ms + 365 * kDayMs);
    return fire(*store_, "test", claims, now_ms);
  }

  const std::int64_t kNow = utc_ms(2030, 1, 7, 12);
  const std::int64_t kStart = utc_ms(2030, 1, 9, 15);
  const std::int64_t kDue24h = utc_ms(2030, 1, 8, 15);
  const std::int64_t kDue2h = utc_ms(2030, 1, 9, 13);

  testing::TempDir dir_;
  std::unique_ptr<ReminderStore> store_;
};

}  // namespace alliance::reminders
