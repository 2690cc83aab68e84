#include <gtest/gtest.h>

#include <algorithm>

#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/push.hpp"
#include "src/push_hub.hpp"

namespace alliance::gateway {
namespace {

struct FakeSocket : PushSink {
  std::vector<std::string> frames;
  int closed_code = 0;
  void deliver(std::shared_ptr<const std::string> json) override { frames.push_back(*json); }
  void close_with(int code, std::string) override { closed_code = code; }
};

std::string frame_for(const std::string& text) {
  push::v1::PushFrame f;
  f.set_id("p1");
  f.set_type("test.notice");
  push::v1::Notice n;
  n.set_text(text);
  f.mutable_body()->PackFrom(n);
  return f.SerializeAsString();
}

struct HubFixture : ::testing::Test {
  std::vector<std::string> subscribed, unsubscribed;
  std::vector<std::string> revoked;
  PushHub hub{PushHub::Hooks{[this](const std::string& c) { subscribed.push_back(c); },
                             [this](const std::string& c) { unsubscribed.push_back(c); },
                             [this](const std::string& s, std::int64_t) { revoked.push_back(s); }}};
};

TEST_F(HubFixture, DeliversToEverySocketOfTheUserAndNoOneElse) {
  FakeSocket phone, laptop, other;
  ASSERT_TRUE(hub.add("u1", "s1", &phone));
  ASSERT_TRUE(hub.add("u1", "s2", &laptop));
  ASSERT_TRUE(hub.add("u2", "s3", &other));
  EXPECT_EQ(subscribed, (std::vector<std::string>{redis::push_channel("u1"), redis::push_channel("u2")}));
  hub.on_message(redis::push_channel("u1"), frame_for("hello"));
  ASSERT_EQ(phone.frames.size(), 1u);
  ASSERT_EQ(laptop.frames.size(), 1u);
  EXPECT_TRUE(other.frames.empty());
  EXPECT_NE(phone.frames[0].find("\"text\":\"hello\""), std::string::npos) << phone.frames[0];
  EXPECT_NE(phone.frames[0].find("\"type\":\"test.notice\""), std::string::npos);
  EXPECT_EQ(hub.delivered(), 2u);
}

// Every socket of the user is handed the one rendering of a push; the buffers are reused
// from push to push, and a shorter push after a longer one carries nothing of it.
struct SharingSocket : PushSink {
  std::vector<std::shared_ptr<const std::string>> held;
  void deliver(std::shared_ptr<const std::string> json) override { held.push_back(std::move(json)); }
  void close_with(int, std::string) override {}
};

TEST_F(HubFixture, OneRenderingIsSharedByTheUsersSocketsAndBuffersAreReused) {
  SharingSocket phone, laptop;
  ASSERT_TRUE(hub.add("u1", "s1", &phone));
  ASSERT_TRUE(hub.add("u1", "s2", &laptop));
  hub.on_message(redis::push_channel("u1"), frame_for(std::string(500, 'a')));
  ASSERT_EQ(phone.held.size(), 1u);
  ASSERT_EQ(laptop.held.size(), 1u);
  EXPECT_EQ(phone.held[0].get(), laptop.held[0].get());
  const std::string* first = phone.held[0].get();
  phone.held.clear();
  laptop.held.clear();  // written: the buffer is free again
  hub.on_message(redis::push_channel("u1"), frame_for("short"));
  ASSERT_EQ(phone.held.size(), 1u);
  EXPECT_EQ(phone.held[0].get(), first);
  EXPECT_EQ(phone.held[0]->find("aaa"), std::string::npos) << *phone.held[0];
  EXPECT_NE(phone.held[0]->find("\"text\":\"short\""), std::string::npos) << *phone.held[0];
  // While a socket still holds it, the next push gets another buffer.
  hub.on_message(redis::push_channel("u1"), frame_for("third"));
  ASSERT_EQ(phone.held.size(), 2u);
  EXPECT_NE(phone.held[1].get(), phone.held[0].get());
  EXPECT_NE(phone.held[0]->find("\"text\":\"short\""), std::string::npos) << *phone.held[0];
}

TEST_F(HubFixture, UnsubscribesWhenLastSocketLeaves) {
  FakeSocket a, b;
  ASSERT_TRUE(hub.add("u1", "s1", &a));
  ASSERT_TRUE(hub.add("u1", "s2", &b));
  hub.remove("u1", "s1", &a);
  EXPECT_TRUE(unsubscribed.empty());
  hub.remove("u1", "s2", &b);
  EXPECT_EQ(unsubscribed, (std::vector<std::string>{redis::push_channel("u1")}));
  EXPECT_EQ(hub.sockets(), 0u);
  hub.on_message(redis::push_channel("u1"), frame_for("late"));
  EXPECT_TRUE(a.frames.empty());
}

TEST_F(HubFixture, RevocationClosesOnlyThatSessionsSockets) {
  FakeSocket s1a, s1b, s2;
  ASSERT_TRUE(hub.add("u1", "s1", &s1a));
  ASSERT_TRUE(hub.add("u1", "s1", &s1b));
  ASSERT_TRUE(hub.add("u1", "s2", &s2));
  push::v1::SessionRevoked r;
  r.set_session_id("s1");
  hub.on_message(kRevocationChannel, r.SerializeAsString());
  EXPECT_EQ(s1a.closed_code, kCloseSessionRevoked);
  EXPECT_EQ(s1b.closed_code, kCloseSessionRevoked);
  EXPECT_EQ(s2.closed_code, 0);
  EXPECT_EQ(revoked, (std::vector<std::string>{"s1"}));
}

TEST(PushHubLimits, ASessionOverItsCapClosesItsOldestSocket) {
  // A phone reconnecting after a network change: the newest socket wins.
  PushHub hub({}, SocketLimits{2, 10});
  FakeSocket first, second, third, other_session;
  ASSERT_TRUE(hub.add("u1", "s1", &first));
  ASSERT_TRUE(hub.add("u1", "s1", &second));
  ASSERT_TRUE(hub.add("u1", "s2", &other_session));
  ASSERT_TRUE(hub.add("u1", "s1", &third));
  EXPECT_EQ(first.closed_code, kCloseReplaced);
  EXPECT_EQ(second.closed_code, 0);
  EXPECT_EQ(other_session.closed_code, 0);
  EXPECT_EQ(hub.sockets(), 3u);
  hub.on_message(redis::push_channel("u1"), frame_for("hello"));
  EXPECT_TRUE(first.frames.empty());
  EXPECT_EQ(third.frames.size(), 1u);
  hub.remove("u1", "s1", &first);  // the replaced socket ending later changes nothing
  EXPECT_EQ(hub.sockets(), 3u);
}

TEST(PushHubLimits, AUserOverTheirCapIsRefusedNamingTheLimit) {
  PushHub hub({}, SocketLimits{2, 3});
  FakeSocket a, b, c, d, e, someone_else;
  ASSERT_TRUE(hub.add("u1", "s1", &a));
  ASSERT_TRUE(hub.add("u1", "s1", &b));
  ASSERT_TRUE(hub.add("u1", "s2", &c));
  auto refused = hub.add("u1", "s3", &d);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kResourceExhausted);
  EXPECT_NE(refused.error().message.find("ws_max_per_user"), std::string::npos) << refused.error().message;
  EXPECT_EQ(a.closed_code + b.closed_code + c.closed_code, 0);
  EXPECT_EQ(hub.sockets(), 3u);
  hub.on_message(redis::push_channel("u1"), frame_for("hello"));
  EXPECT_TRUE(d.frames.empty());
  EXPECT_TRUE(hub.add("u2", "s9", &someone_else));  // another user is not affected
  // A session at its own cap replaces its oldest even when the user is full.
  ASSERT_TRUE(hub.add("u1", "s1", &e));
  EXPECT_EQ(a.closed_code, kCloseReplaced);
  EXPECT_EQ(hub.sockets(), 4u);
}

TEST(PushHubLimits, ClosedSocketsGiveTheirPlaceBack) {
  PushHub hub({}, SocketLimits{1, 2});
  std::vector<FakeSocket> sockets(200);
  for (std::size_t i = 0; i < sockets.size(); i += 2) {
    ASSERT_TRUE(hub.add("u1", "s" + std::to_string(i), &sockets[i])) << i;
    ASSERT_TRUE(hub.add("u1", "s" + std::to_string(i + 1), &sockets[i + 1])) << i;
    hub.remove("u1", "s" + std::to_string(i), &sockets[i]);
    hub.remove("u1", "s" + std::to_string(i + 1), &sockets[i + 1]);
    hub.remove("u1", "s" + std::to_string(i + 1), &sockets[i + 1]);  // twice: closing, then ended
  }
  EXPECT_EQ(hub.sockets(), 0u);
  EXPECT_EQ(hub.users(), 0u);
}

TEST_F(HubFixture, MalformedFramesAreDroppedNotDelivered) {
  FakeSocket a;
  ASSERT_TRUE(hub.add("u1", "s1", &a));
  hub.on_message(redis::push_channel("u1"), std::string("\xff\xff\xff garbage", 12));
  EXPECT_TRUE(a.frames.empty());
  EXPECT_EQ(hub.dropped(), 1u);
}

// A front desk's console hears appointment changes of its practice on the staff
// channel; a client's or another practice's socket does not, and the channel is
// dropped with the practice's last staff socket.
TEST_F(HubFixture, StaffSocketsHearTheirPracticesStaffChannelAndNoOneElseDoes) {
  FakeSocket desk, admin, client, other_practice;
  ASSERT_TRUE(hub.add("desk", "s1", &desk, "p1"));
  ASSERT_TRUE(hub.add("admin", "s2", &admin, "p1"));
  ASSERT_TRUE(hub.add("client", "s3", &client));
  ASSERT_TRUE(hub.add("desk2", "s4", &other_practice, "p2"));
  EXPECT_EQ(std::count(subscribed.begin(), subscribed.end(), redis::staff_push_channel("p1")), 1);
  hub.on_message(redis::staff_push_channel("p1"), frame_for("appointment moved"));
  EXPECT_EQ(desk.frames.size(), 1u);
  EXPECT_EQ(admin.frames.size(), 1u);
  EXPECT_TRUE(client.frames.empty());
  EXPECT_TRUE(other_practice.frames.empty());
  hub.remove("desk", "s1", &desk);
  EXPECT_EQ(unsubscribed, (std::vector<std::string>{redis::push_channel("desk")}));  // the channel stays
  hub.remove("admin", "s2", &admin);
  EXPECT_EQ(unsubscribed, (std::vector<std::string>{redis::push_channel("desk"), redis::push_channel("admin"),
                                                     redis::staff_push_channel("p1")}));
  hub.on_message(redis::staff_push_channel("p1"), frame_for("late"));
  EXPECT_EQ(desk.frames.size(), 1u);
}

}  // namespace
}  // namespace alliance::gateway
