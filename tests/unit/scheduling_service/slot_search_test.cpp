// Slot search as a user sees it: the compact answer (ListSlotRuns) holds exactly the
// starts of the long one (ListSlots), and every change to what a search reads shows
// in the very next search although searches are served from the store's cache.
// Same fixture as service_test.cpp: now = Monday 2030-01-07 12:00Z, the therapist
// works 09:00-17:00 New York (UTC-5) on weekdays, 50-minute sessions on a 30-minute
// grid with 10 minutes after.
#include "calendar.hpp"
#include "service_fixture.hpp"

namespace alliance::scheduling {
namespace {

class SlotSearchTest : public SchedulingServiceTest {
 protected:
  pb::ListSlotsRequest request(const std::string& from, const std::string& to) const {
    pb::ListSlotsRequest req;
    req.set_therapist_id(kTherapist);
    req.set_type_id(type_);
    req.set_from(from);
    req.set_to(to);
    return req;
  }

  // Tuesday 2030-01-08, the whole day, as the front desk sees it.
  std::vector<std::string> tuesday() {
    auto r = run(service_->list_slots(request("2030-01-08T00:00:00Z", "2030-01-09T00:00:00Z"),
                                      as(kDesk, Role::kFrontDesk)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    std::vector<std::string> out;
    if (r.ok())
      for (const auto& s : r->slots()) out.push_back(s.start_time());
    return out;
  }

  static bool has(const std::vector<std::string>& starts, const std::string& start) {
    return std::find(starts.begin(), starts.end(), start) != starts.end();
  }

  std::uint64_t hits() const { return store_->slot_cache_stats().hits; }
};

// "2030-01-08T14:00:00Z" + minutes, in the same form.
std::string plus_minutes(const std::string& utc, int minutes) {
  auto t = parse_instant(utc, "t");
  return t ? format_instant(*t + std::chrono::minutes(minutes)) : "";
}

TEST_F(SlotSearchTest, SlotRunsHoldExactlyTheStartsOfTheSlotList) {
  // A booking on Tuesday 10:00 New York splits that day into two runs.
  ASSERT_TRUE(book(as(kDesk, Role::kFrontDesk), "2030-01-08T15:00:00Z").ok());
  const auto req = request("2030-01-07T00:00:00Z", "2030-01-21T00:00:00Z");
  auto slots = run(service_->list_slots(req, as(kClient, Role::kClient)));
  auto runs = run(service_->list_slot_runs(req, as(kClient, Role::kClient)));
  ASSERT_TRUE(slots.ok()) << slots.error().message;
  ASSERT_TRUE(runs.ok()) << runs.error().message;
  EXPECT_EQ(runs->therapist_id(), kTherapist);
  EXPECT_EQ(runs->type_id(), type_);
  EXPECT_EQ(runs->time_zone(), "America/New_York");
  EXPECT_EQ(runs->duration_minutes(), 50);

  std::vector<pb::Slot> expanded;
  for (const auto& r : runs->runs()) {
    ASSERT_GE(r.count(), 1);
    EXPECT_EQ(r.step_minutes(), 30);
    for (int i = 0; i < r.count(); ++i) {
      pb::Slot s;
      s.set_start_time(plus_minutes(r.start_time(), i * r.step_minutes()));
      s.set_end_time(plus_minutes(s.start_time(), runs->duration_minutes()));
      s.set_utc_offset_minutes(r.utc_offset_minutes());
      auto local = parse_instant(s.start_time(), "t");
      ASSERT_TRUE(local.ok());
      s.set_local_start(format_instant(*local + std::chrono::minutes(r.utc_offset_minutes())).substr(0, 16));
      expanded.push_back(s);
    }
  }
  ASSERT_EQ(static_cast<int>(expanded.size()), slots->slots_size());
  for (int i = 0; i < slots->slots_size(); ++i) {
    EXPECT_EQ(expanded[i].start_time(), slots->slots(i).start_time()) << i;
    EXPECT_EQ(expanded[i].end_time(), slots->slots(i).end_time()) << i;
    EXPECT_EQ(expanded[i].local_start(), slots->slots(i).local_start()) << i;
    EXPECT_EQ(expanded[i].utc_offset_minutes(), slots->slots(i).utc_offset_minutes()) << i;
  }
  // Monday afternoon (after 12:00Z now) and nine other weekdays, Tuesday cut in two:
  // one run per stretch of the day, not one per slot.
  EXPECT_EQ(runs->runs_size(), 11);
  EXPECT_LT(runs->ByteSizeLong() * 5, slots->ByteSizeLong());

  // The same refusals, naming the same fields.
  auto bad = request("2030-01-07T00:00:00Z", "2030-03-07T00:00:00Z");
  auto refused = run(service_->list_slot_runs(bad, as(kClient, Role::kClient)));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "to");
  auto other_practice = run(service_->list_slot_runs(req, as(kOtherDesk, Role::kFrontDesk, kOtherPractice)));
  ASSERT_FALSE(other_practice.ok());
  EXPECT_EQ(other_practice.error().code, Code::kNotFound);
}

TEST_F(SlotSearchTest, EveryChangeShowsInTheVeryNextSearch) {
  const auto desk = as(kDesk, Role::kFrontDesk);
  const std::string ten = "2030-01-08T15:00:00Z";  // Tuesday 10:00 New York
  ASSERT_TRUE(has(tuesday(), ten));
  const auto hits_before = hits();
  ASSERT_TRUE(has(tuesday(), ten));
  EXPECT_GT(hits(), hits_before) << "the second search was not served from the cache";

  // A booking takes the time away...
  auto booked = book(desk, ten);
  ASSERT_TRUE(booked.ok()) << booked.error().message;
  EXPECT_FALSE(has(tuesday(), ten));
  // ...a reschedule moves it...
  const std::string eleven = "2030-01-08T16:00:00Z";
  ASSERT_TRUE(reschedule(desk, booked->appointment().id(), eleven).ok());
  auto after_move = tuesday();
  EXPECT_TRUE(has(after_move, ten));
  EXPECT_FALSE(has(after_move, eleven));
  // ...and a cancellation gives it back.
  ASSERT_TRUE(cancel(desk, booked->appointment().id()).ok());
  EXPECT_TRUE(has(tuesday(), eleven));

  // A time block takes its time; deleting it gives it back.
  Calendar calendar(*store_, directory_, std::chrono::minutes(24 * 60), [this] { return now_; });
  pb::CreateTimeBlockRequest block;
  block.set_therapist_id(kTherapist);
  block.set_start_time(ten);
  block.set_end_time(plus_minutes(ten, 60));
  auto made = run(calendar.create_time_block(block, as(kTherapist, Role::kTherapist)));
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_FALSE(has(tuesday(), ten));
  pb::DeleteTimeBlockRequest unblock;
  unblock.set_therapist_id(kTherapist);
  unblock.set_block_id(made->block().id());
  ASSERT_TRUE(run(calendar.delete_time_block(unblock, as(kTherapist, Role::kTherapist))).ok());
  EXPECT_TRUE(has(tuesday(), ten));

  // Time off on Tuesday empties it; new hours show at once.
  pb::SetAvailabilityRequest off = weekday_hours(kTherapist);
  auto* day = off.add_time_off();
  day->set_first_date("2030-01-08");
  day->set_last_date("2030-01-08");
  ASSERT_TRUE(run(service_->set_availability(off, as(kAdmin, Role::kAdmin))).ok());
  EXPECT_TRUE(tuesday().empty());
  off.clear_time_off();
  off.mutable_weekly(1)->set_start("13:00");  // Tuesday from 13:00 only
  ASSERT_TRUE(run(service_->set_availability(off, as(kAdmin, Role::kAdmin))).ok());
  auto afternoon = tuesday();
  ASSERT_FALSE(afternoon.empty());
  EXPECT_EQ(afternoon.front(), "2030-01-08T18:00:00Z");

  // Another therapist's booking leaves this therapist's cached search alone.
  const auto hits_mid = hits();
  ASSERT_TRUE(book(desk, "2030-01-08T18:00:00Z", kClient, kTherapist2).ok());
  EXPECT_EQ(tuesday().front(), "2030-01-08T18:00:00Z");
  EXPECT_GT(hits(), hits_mid);
}

TEST(SlotSearchCacheTest, ALoadThatRacedAChangeIsNotKept) {
  SlotSearchCache cache;
  auto inputs = std::make_shared<SlotInputs>();
  inputs->from = Instant{};
  inputs->to = Instant{} + std::chrono::days(60);
  const Instant from = Instant{} + std::chrono::days(1), to = from + std::chrono::days(28);

  // Read before the change was published: not kept.
  auto before = cache.ticket();
  cache.mark_from_trigger(std::string_view("therapist-1"));
  cache.publish();
  cache.put("therapist-1", before, inputs);
  EXPECT_EQ(cache.find("therapist-1", from, to), nullptr);
  // Another therapist's change does not spoil a load.
  cache.put("therapist-2", before, inputs);
  EXPECT_NE(cache.find("therapist-2", from, to), nullptr);
  // Read after it: kept, until the next change of that therapist.
  cache.put("therapist-1", cache.ticket(), inputs);
  EXPECT_NE(cache.find("therapist-1", from, to), nullptr);
  EXPECT_EQ(cache.find("therapist-1", from, to + std::chrono::days(60)), nullptr) << "outside what was read";
  cache.mark_from_trigger(std::string_view("therapist-1"));
  EXPECT_NE(cache.find("therapist-1", from, to), nullptr) << "dropped before the commit";
  cache.publish();
  EXPECT_EQ(cache.find("therapist-1", from, to), nullptr);
  EXPECT_NE(cache.find("therapist-2", from, to), nullptr);

  // A change to a type (or a location) drops everything, types included.
  AppointmentType type;
  type.id = "type-1";
  cache.put_type(cache.ticket(), type);
  ASSERT_TRUE(cache.find_type("type-1"));
  const auto stale = cache.ticket();
  cache.mark_from_trigger(std::nullopt);
  cache.publish();
  EXPECT_FALSE(cache.find_type("type-1"));
  EXPECT_EQ(cache.find("therapist-2", from, to), nullptr);
  cache.put_type(stale, type);
  EXPECT_FALSE(cache.find_type("type-1"));
}

}  // namespace
}  // namespace alliance::scheduling
