// Free text in scheduling at rest: cancellation reasons, time-block reasons, staff
// notes and location names and addresses are sealed in scheduling.db and its -wal, read back as written, and a
// database from before sealing is sealed in place when it is opened.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "alliance/store/query.hpp"
#include "service_fixture.hpp"
#include "older_database.hpp"

namespace alliance::scheduling {
namespace {

class SealedTextTest : public SchedulingServiceTest {
 protected:
  std::string db_bytes(const std::filesystem::path& path) const {
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(path.string() + suffix, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }
};

TEST_F(SealedTextTest, ReasonsNotesAndBlockReasonsAreSealedAndReadBack) {
  auto booked = book(as(kDesk, Role::kFrontDesk), "2030-01-08T15:00:00Z");
  ASSERT_TRUE(booked.ok()) << booked.error().message;
  const std::string id = booked->appointment().id();
  pb::CancelAppointmentRequest cancel_req;
  cancel_req.set_appointment_id(id);
  cancel_req.set_reason("custody hearing for Lorenzo");
  auto cancelled = run(service_->cancel_appointment(cancel_req, as(kDesk, Role::kFrontDesk)));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled->appointment().cancel_reason(), "custody hearing for Lorenzo");

  ASSERT_TRUE(run(store_->set_note(AppointmentNote{id, "mentions panic attacks at work", kTherapist, 1})).ok());
  TimeBlock block;
  block.id = "block-sealed";
  block.practice_id = kPractice;
  block.therapist_id = kTherapist;
  block.times.start = at("2030-01-09T15:00:00Z");
  block.times.end = at("2030-01-09T16:00:00Z");
  block.times.time_zone = "UTC";
  block.reason = "chemotherapy session";
  block.created_by = kTherapist;
  ASSERT_TRUE(run(store_->create_time_block(block)).ok());

  const std::string bytes = db_bytes(dir_.path() / "scheduling.db");
  ASSERT_FALSE(bytes.empty());
  for (const char* secret : {"custody", "Lorenzo", "panic attacks", "chemotherapy"})
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret << " is in scheduling.db in clear";

  auto again = get(as(kDesk, Role::kFrontDesk), id);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->appointment().cancel_reason(), "custody hearing for Lorenzo");
  auto notes = run(store_->notes({id}));
  ASSERT_TRUE(notes.ok() && notes->size() == 1u);
  EXPECT_EQ(notes->front().note, "mentions panic attacks at work");
  auto found = run(store_->find_time_block("block-sealed"));
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ((*found)->reason, "chemotherapy session");
}

TEST_F(SealedTextTest, ADatabaseFromBeforeSealingIsSealedInPlaceAtOpen) {
  const auto path = dir_.path() / "old.db";
  {
    auto db = testing::open_database_before(path, scheduling_migrations(), kSealedTextVersion);
    ASSERT_TRUE(db.ok()) << db.error().message;
  }
  {
    auto c = store::Connection::open(path, {});
    store::execute(*c,
                   "INSERT INTO time_blocks (id, practice_id, therapist_id, start_unix, end_unix, time_zone, weekly, "
                   "reason, created_by, created_unix_ms) VALUES ('b1', 'p1', 't1', 100, 200, 'UTC', 0, "
                   "'divorce mediation', 't1', 1)");
    store::execute(*c,
                   "INSERT INTO locations (id, practice_id, name, address, rooms, created_by, created_unix_ms) "
                   "VALUES ('l1', 'p1', 'Home office', '9 Juniper Lane', 'Study', 't1', 1)");
  }
  {
    auto opened = SchedulingStore::open(path, store::KekPair{std::string(32, 'k')});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto b = run((*opened)->find_time_block("b1"));
    ASSERT_TRUE(b.ok() && *b) << (b.ok() ? "" : b.error().message);
    EXPECT_EQ((*b)->reason, "divorce mediation");
    auto l = run((*opened)->find_location("l1"));
    ASSERT_TRUE(l.ok() && *l) << (l.ok() ? "" : l.error().message);
    EXPECT_EQ((*l)->name, "Home office");
    EXPECT_EQ((*l)->address, "9 Juniper Lane");
  }
  EXPECT_EQ(db_bytes(path).find("divorce"), std::string::npos);
  EXPECT_EQ(db_bytes(path).find("Juniper"), std::string::npos);
  EXPECT_EQ(db_bytes(path).find("Home office"), std::string::npos);
  // The wrong KEK is refused by name.
  auto wrong = SchedulingStore::open(path, store::KekPair{std::string(32, 'w')});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("kek_file"), std::string::npos) << wrong.error().message;
}

}  // namespace
}  // namespace alliance::scheduling
