// Scheduling's audit table through the shared CallAuditor: which finished calls become
// records, how many, and that a calendar view records each client once per therapist's
// calendar. The sender's queue is read before anything is sent (no identity runs here).
#include <gtest/gtest.h>

#include <boost/asio/ssl/context.hpp>

#include "alliance/audit/audit_sender.hpp"
#include "alliance/scheduling/v1/scheduling.pb.h"
#include "scheduling_audit.hpp"

namespace alliance::scheduling {
namespace {

namespace pb = ::alliance::scheduling::v1;

class SchedulingAuditTest : public ::testing::Test {
 protected:
  SchedulingAuditTest() { staff_.caller.set_user_id("desk"); }

  // How many records `method` answering `response` (or failing with `error`) queues.
  std::size_t records(std::string_view method, const net::CallContext& ctx, const google::protobuf::Message* response,
                      const Error* error = nullptr) {
    const auto before = sender_.queued();
    observer_(method, ctx, response, error);
    return sender_.queued() - before;
  }

  static void add(pb::TherapistCalendar& t, const std::string& client) {
    t.add_appointments()->mutable_appointment()->set_client_id(client);
  }

  asio::io_context io_;  // never run: records stay queued
  asio::ssl::context tls_{asio::ssl::context::tls_client};
  net::RpcClient identity_{io_.get_executor(), tls_, {.host = "127.0.0.1", .port = 1, .server_name = "identity"}};
  audit::AuditSender sender_{io_.get_executor(), identity_, {}};
  net::CallObserver observer_ = scheduling_auditor(sender_);
  net::CallContext staff_;
};

TEST_F(SchedulingAuditTest, ACalendarViewRecordsEachClientOncePerTherapistsCalendar) {
  pb::GetCalendarResponse view;
  auto& kim = *view.add_therapists();
  kim.set_therapist_id("kim");
  add(kim, "jo");
  add(kim, "jo");
  add(kim, "sam");
  auto& lee = *view.add_therapists();
  lee.set_therapist_id("lee");
  add(lee, "jo");
  view.add_therapists()->set_therapist_id("empty");
  EXPECT_EQ(records("GetCalendar", staff_, &view), 3u);  // kim: jo, sam; lee: jo
}

TEST_F(SchedulingAuditTest, WaitlistAndSeriesAnswersRecordEachObjectTheyShow) {
  pb::ListWaitlistResponse entries;
  entries.add_entries()->set_id("e1");
  entries.add_entries()->set_id("e2");
  EXPECT_EQ(records("ListWaitlist", staff_, &entries), 2u);
  pb::WaitlistOfferResponse accepted;
  accepted.mutable_offer()->set_id("o1");
  EXPECT_EQ(records("AcceptWaitlistOffer", staff_, &accepted), 1u);  // no appointment: the offer only
  accepted.mutable_appointment()->set_id("a1");
  EXPECT_EQ(records("AcceptWaitlistOffer", staff_, &accepted), 2u);
  pb::BookSeriesResponse series;
  series.add_occurrences()->mutable_appointment()->set_id("a1");
  series.add_occurrences()->set_outcome("skipped");  // nothing booked, nothing touched
  series.add_occurrences()->mutable_appointment()->set_id("a3");
  EXPECT_EQ(records("BookSeries", staff_, &series), 2u);
}

TEST_F(SchedulingAuditTest, RefusalsAreRecordedOtherFailuresServiceCallsAndUnauditedMethodsAreNot) {
  const Error hidden = make_error(Code::kNotFound, "entry_id: not found");
  const Error bad = make_error(Code::kInvalidArgument, "entry_id: is required");
  EXPECT_EQ(records("LeaveWaitlist", staff_, nullptr, &hidden), 1u);
  EXPECT_EQ(records("LeaveWaitlist", staff_, nullptr, &bad), 0u);
  const net::CallContext service;  // a service calling as itself: no end user
  pb::ListWaitlistResponse entries;
  entries.add_entries()->set_id("e1");
  EXPECT_EQ(records("ListWaitlist", service, &entries), 0u);
  pb::ListSlotsResponse slots;
  EXPECT_EQ(records("ListSlots", staff_, &slots), 0u);
}

}  // namespace
}  // namespace alliance::scheduling
