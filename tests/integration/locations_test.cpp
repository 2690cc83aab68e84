// A practice adds its Elm Street office with two rooms and an in-person type held
// there by default. The front desk books two therapists into the same room at the
// same time and is refused naming the room (booking and rescheduling alike), while
// the other room is free; the therapist's calendar feed says where each session is.
// A telehealth session's video link reaches only its client and therapist: the
// front desk's answers, lists and the public feed never carry it, nor the practice's
// default link that stands in for a session without its own. An admin renames the
// office and retires a room: what was booked keeps its room and the old name.
// A weekly series takes a room, a location or another modality like a single booking:
// an occurrence whose room is taken is skipped naming the room, or refuses the whole
// series when the desk asked for all or nothing.
#include <gtest/gtest.h>

#include "alliance/core/ids.hpp"
#include "scheduling_practice.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;

// The appointment's video link ("" when the answer leaves it out).
std::string video_link(const json::value& answer) {
  const auto* link = answer.at("appointment").as_object().if_contains("video_link");
  return link ? std::string(link->as_string()) : "";
}

constexpr const char* kLink = "https://video.example/room/7f3a9c";

class Locations : public SchedulingPractice {
 protected:
  // The Elm Street office (rooms "Room 1", "Room 2") and an in-person type held there.
  void add_office() {
    json::value body = {{"name", "Elm Street office"},
                        {"address", "12 Elm St\nSpringfield"},
                        {"rooms", json::array{"Room 1", "Room 2"}}};
    auto made = admin_->post_json("/v1/locations", body);
    ASSERT_TRUE(made) << made.error().message;
    location_id_ = str(made->at("location"), "id");
    json::value type = {{"name", "In-person session"},  {"duration_minutes", 50},
                        {"modality", "in_person"},       {"buffer_after_minutes", 10},
                        {"step_minutes", 60},            {"booking_horizon_days", 700},
                        {"default_location_id", location_id_}};
    auto t = admin_->post_json("/v1/appointment-types", type);
    ASSERT_TRUE(t) << t.error().message;
    in_person_type_ = str(t->at("type"), "id");
    EXPECT_EQ(str(t->at("type"), "default_location_id"), location_id_);
  }

  json::value in_room(const std::string& start, const std::string& client, const std::string& therapist,
                      const std::string& room) {
    auto body = booking(start, client, "", therapist, in_person_type_);
    if (!room.empty()) body.as_object()["room"] = room;
    return body;
  }

  // A weekly series of the in-person type in `room` ("" = none), from `first`.
  json::value series_in(const std::string& therapist, const std::string& client, const std::string& first, int count,
                        const std::string& room, const std::string& on_conflict = "skip") {
    json::value body = {{"idempotency_key", new_id()}, {"therapist_id", therapist}, {"client_id", client},
                        {"type_id", in_person_type_},  {"first_start_time", first}, {"interval_weeks", 1},
                        {"count", count},              {"on_conflict", on_conflict}};
    if (!room.empty()) body.as_object()["room"] = room;
    return body;
  }

  std::string location_id_, in_person_type_;
};

TEST_F(Locations, ARoomIsNeverBookedTwiceAndTheFeedSaysWhereEachSessionIs) {
  add_office();
  auto listed = desk_->get_json("/v1/locations");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->at("locations").as_array().size(), 1u);
  EXPECT_EQ(json::serialize(listed->at("locations").at(0).at("rooms")), R"(["Room 1","Room 2"])");

  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 3u);
  auto kim = desk_->post_json("/v1/appointments", in_room(open[0], client_id_, therapist_id_, "Room 1"));
  ASSERT_TRUE(kim) << kim.error().message;
  const auto& kim_appt = kim->at("appointment");
  EXPECT_EQ(str(kim_appt, "location_id"), location_id_);
  EXPECT_EQ(str(kim_appt, "location_name"), "Elm Street office");
  EXPECT_EQ(str(kim_appt, "room"), "Room 1");

  // Lee, free at that time, cannot have Room 1 too, by booking or by moving a later
  // session onto it; Room 2 is free.
  auto clash = desk_->post_json("/v1/appointments", in_room(open[0], client2_id_, therapist2_id_, "Room 1"));
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, Code::kAlreadyExists);
  EXPECT_EQ(clash.error().field, "room");
  auto later = desk_->post_json("/v1/appointments", in_room(open[2], client2_id_, therapist2_id_, "Room 1"));
  ASSERT_TRUE(later) << later.error().message;
  const std::string later_id = str(later->at("appointment"), "id");
  auto moved = desk_->post_json("/v1/appointments/" + later_id + "/reschedule",
                                json::value{{"new_start_time", open[0]}});
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code, Code::kAlreadyExists);
  EXPECT_EQ(moved.error().field, "room");
  auto lee = desk_->post_json("/v1/appointments", in_room(open[0], client2_id_, therapist2_id_, "Room 2"));
  ASSERT_TRUE(lee) << lee.error().message;
  // Once Kim's is cancelled, Room 1 at that time can be booked again.
  auto cancelled = desk_->post_json("/v1/appointments/" + str(kim_appt, "id") + "/cancel",
                                    json::value{{"reason", "client asked"}});
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  auto again = desk_->post_json("/v1/appointments", in_room(open[0], client_id_, therapist_id_, "Room 1"));
  ASSERT_TRUE(again) << again.error().message;

  // No location given: the type's default, without a room.
  auto by_default = desk_->post_json("/v1/appointments", in_room(open[1], client_id_, therapist_id_, ""));
  ASSERT_TRUE(by_default) << by_default.error().message;
  EXPECT_EQ(str(by_default->at("appointment"), "location_id"), location_id_);
  EXPECT_EQ(str(by_default->at("appointment"), "room"), "");

  // A weekly series of the type is held there too.
  json::value series = {{"idempotency_key", new_id()}, {"therapist_id", therapist_id_},
                        {"client_id", client_id_},     {"type_id", in_person_type_},
                        {"first_start_time", open[2]}, {"interval_weeks", 1},
                        {"count", 2}};
  auto weekly = desk_->post_json("/v1/appointment-series", series);
  ASSERT_TRUE(weekly) << weekly.error().message;
  for (const auto& o : weekly->at("occurrences").as_array())
    EXPECT_EQ(str(o.at("appointment"), "location_name"), "Elm Street office") << json::serialize(o);

  auto therapist = sys_->login(slug_, "lee@" + slug_ + ".example");
  const std::string feed = fetch_feed(*therapist);
  EXPECT_NE(feed.find("LOCATION:Elm Street office\\, Room 1\\, 12 Elm St\\, Springfield\r\n"), std::string::npos)
      << feed;
  EXPECT_NE(feed.find("LOCATION:Elm Street office\\, Room 2\\, 12 Elm St\\, Springfield\r\n"), std::string::npos)
      << feed;
}

TEST_F(Locations, AVideoLinkReachesOnlyTheClientAndTheTherapist) {
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 2u);
  auto body = booking(open[0], client_id_);
  body.as_object()["video_link"] = kLink;
  auto booked = desk_->post_json("/v1/appointments", body);
  ASSERT_TRUE(booked) << booked.error().message;
  EXPECT_EQ(video_link(*booked), "");  // the front desk is not in the session
  const std::string id = str(booked->at("appointment"), "id");

  auto own = client_->get_json("/v1/appointments/" + id);
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(video_link(*own), kLink);
  // The client booking for themself gets it in the answer, and again in a retry's.
  auto self = booking(open[1], "");
  self.as_object()["video_link"] = kLink;
  auto first = client_->post_json("/v1/appointments", self);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(video_link(*first), kLink);
  auto retry = client_->post_json("/v1/appointments", self);
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_TRUE(retry->at("replayed").as_bool());
  EXPECT_EQ(video_link(*retry), kLink);
  auto kim = sys_->login(slug_, "kim@" + slug_ + ".example");
  auto theirs = kim->get_json("/v1/appointments/" + id);
  ASSERT_TRUE(theirs) << theirs.error().message;
  EXPECT_EQ(video_link(*theirs), kLink);

  auto desk_view = desk_->get_json("/v1/appointments/" + id);
  ASSERT_TRUE(desk_view) << desk_view.error().message;
  EXPECT_EQ(json::serialize(*desk_view).find("video.example"), std::string::npos);
  auto listed = desk_->get_json("/v1/appointments");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(json::serialize(*listed).find("video.example"), std::string::npos);

  const std::string feed = fetch_feed(*kim);
  EXPECT_NE(feed.find("BEGIN:VEVENT"), std::string::npos);
  EXPECT_EQ(feed.find("video.example"), std::string::npos) << feed;
  EXPECT_EQ(feed.find("LOCATION"), std::string::npos) << feed;
}

TEST_F(Locations, EachBadFieldIsNamed) {
  auto refused = [&](client::AllianceClient& who, const std::string& target, const json::value& body) {
    auto r = who.post_json(target, body);
    EXPECT_FALSE(r) << json::serialize(body);
    return r ? std::string("(accepted)") : r.error().field;
  };
  // Names count characters: 100 "é" (200 bytes) is a fine name, 101 is not.
  std::string e100;
  for (int i = 0; i < 100; ++i) e100 += "\xc3\xa9";
  auto fine = admin_->post_json("/v1/locations", json::value{{"name", e100}, {"address", "1 Main St"}});
  ASSERT_TRUE(fine) << fine.error().message;
  EXPECT_EQ(refused(*admin_, "/v1/locations", json::value{{"name", e100 + "\xc3\xa9"}, {"address", "1 Main St"}}),
            "name");
  EXPECT_EQ(refused(*admin_, "/v1/locations", json::value{{"name", "Annex\tB"}, {"address", "1 Main St"}}), "name");
  EXPECT_EQ(refused(*admin_, "/v1/locations", json::value{{"name", "Annex"}, {"address", ""}}), "address");
  EXPECT_EQ(refused(*admin_, "/v1/locations",
                    json::value{{"name", "Annex"}, {"address", "1 Main St"}, {"rooms", json::array{"A", "B\x01"}}}),
            "rooms[1]");
  EXPECT_EQ(refused(*admin_, "/v1/locations",
                    json::value{{"name", "Annex"}, {"address", "1 Main St"}, {"rooms", json::array{"A", "A"}}}),
            "rooms[1]");
  EXPECT_EQ(refused(*admin_, "/v1/locations", json::value{{"name", e100}, {"address", "2 Main St"}}), "name");
  EXPECT_EQ(refused(*desk_, "/v1/locations", json::value{{"name", "Desk's"}, {"address", "1 Main St"}}), "");

  add_office();
  auto open = slots(therapist_id_);
  ASSERT_FALSE(open.empty());
  EXPECT_EQ(refused(*desk_, "/v1/appointments", in_room(open[0], client_id_, therapist_id_, "Room 9")), "room");
  auto elsewhere = in_room(open[0], client_id_, therapist_id_, "");
  elsewhere.as_object()["location_id"] = "no-such-location";
  EXPECT_EQ(refused(*desk_, "/v1/appointments", elsewhere), "location_id");
  auto link_in_person = in_room(open[0], client_id_, therapist_id_, "");
  link_in_person.as_object()["video_link"] = kLink;
  EXPECT_EQ(refused(*desk_, "/v1/appointments", link_in_person), "video_link");
  auto plain_http = booking(open[0], client_id_);
  plain_http.as_object()["video_link"] = "http://video.example/x";
  EXPECT_EQ(refused(*desk_, "/v1/appointments", plain_http), "video_link");
  auto room_online = booking(open[0], client_id_);
  room_online.as_object()["room"] = "Room 1";
  EXPECT_EQ(refused(*desk_, "/v1/appointments", room_online), "room");
  // Another practice's location is unknown here.
  json::value type = {{"name", "Remote type"}, {"duration_minutes", 50}, {"modality", "telehealth"},
                      {"default_location_id", location_id_}};
  EXPECT_EQ(refused(*admin_, "/v1/appointment-types", type), "default_location_id");
}

TEST_F(Locations, AnAdminEditsALocationAndARetiredRoomKeepsItsAppointments) {
  add_office();
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 4u);
  auto kim = desk_->post_json("/v1/appointments", in_room(open[0], client_id_, therapist_id_, "Room 1"));
  ASSERT_TRUE(kim) << kim.error().message;
  const std::string kim_id = str(kim->at("appointment"), "id");
  const std::string path = "/v1/locations/" + location_id_;

  json::value edit = {{"name", "Elm Street clinic"},
                      {"add_rooms", json::array{"Room 3"}},
                      {"retire_rooms", json::array{"Room 1"}}};
  auto by_desk = desk_->call_json("PATCH", path, &edit);
  ASSERT_FALSE(by_desk);
  EXPECT_EQ(by_desk.error().code, Code::kPermissionDenied);
  auto changed = admin_->call_json("PATCH", path, &edit);
  ASSERT_TRUE(changed) << changed.error().message;
  const auto& l = changed->at("location");
  EXPECT_EQ(str(l, "name"), "Elm Street clinic");
  EXPECT_EQ(str(l, "address"), "12 Elm St\nSpringfield");  // left out: unchanged
  EXPECT_EQ(json::serialize(l.at("rooms")), R"(["Room 2","Room 3"])");
  EXPECT_EQ(json::serialize(l.at("retired_rooms")), R"(["Room 1"])");

  // Kim keeps Room 1 and the name the office had when she was booked.
  auto kept = desk_->get_json("/v1/appointments/" + kim_id);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(str(kept->at("appointment"), "room"), "Room 1");
  EXPECT_EQ(str(kept->at("appointment"), "location_name"), "Elm Street office");
  // Nothing new goes into the retired room; the new room takes bookings under the new name.
  auto retired = desk_->post_json("/v1/appointments", in_room(open[1], client_id_, therapist_id_, "Room 1"));
  ASSERT_FALSE(retired);
  EXPECT_EQ(retired.error().field, "room");
  EXPECT_NE(retired.error().message.find("retired"), std::string::npos) << retired.error().message;
  auto in_new = desk_->post_json("/v1/appointments", in_room(open[1], client_id_, therapist_id_, "Room 3"));
  ASSERT_TRUE(in_new) << in_new.error().message;
  EXPECT_EQ(str(in_new->at("appointment"), "location_name"), "Elm Street clinic");
  // Back in use, Room 1 takes bookings again.
  json::value back = {{"add_rooms", json::array{"Room 1"}}};
  auto restored = admin_->call_json("PATCH", path, &back);
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(json::serialize(restored->at("location").at("retired_rooms")), "[]");
  EXPECT_TRUE(desk_->post_json("/v1/appointments", in_room(open[2], client_id_, therapist_id_, "Room 1")));

  auto refused = [&](const std::string& target, const json::value& body) {
    auto r = admin_->call_json("PATCH", target, &body);
    EXPECT_FALSE(r) << json::serialize(body);
    return r ? std::string("(accepted)") : r.error().field;
  };
  EXPECT_EQ(refused(path, json::value{{"retire_rooms", json::array{"Room 9"}}}), "retire_rooms[0]");
  EXPECT_EQ(refused(path, json::value{{"add_rooms", json::array{"Room 2"}}}), "add_rooms[0]");
  EXPECT_EQ(refused(path, json::value{{"add_rooms", json::array{"Bad\x01"}}}), "add_rooms[0]");
  EXPECT_EQ(refused(path, json::value{{"name", ""}}), "name");
  EXPECT_EQ(refused(path, json::value{{"address", std::string(301, 'a')}}), "address");
  EXPECT_EQ(refused(path, json::object{}), "name");
  EXPECT_EQ(refused("/v1/locations/no-such-location", json::value{{"name", "X"}}), "location_id");
  // A second location cannot take the first one's name.
  auto annex = admin_->post_json("/v1/locations", json::value{{"name", "Annex"}, {"address", "1 Main St"}});
  ASSERT_TRUE(annex) << annex.error().message;
  EXPECT_EQ(refused("/v1/locations/" + str(annex->at("location"), "id"), json::value{{"name", "Elm Street clinic"}}),
            "name");
}

TEST_F(Locations, ThePracticeVideoLinkStandsInOnlyForTheClientAndTheTherapist) {
  constexpr const char* kPracticeLink = "https://video.example/practice/waiting-room";
  auto refused = [&](client::AllianceClient& who, const json::value& body) {
    auto r = who.call_json("PUT", "/v1/practice/video-link", &body);
    EXPECT_FALSE(r) << json::serialize(body);
    return r ? std::string("(accepted)") : r.error().field;
  };
  EXPECT_EQ(refused(*desk_, json::value{{"video_link", kPracticeLink}}), "");
  EXPECT_EQ(refused(*admin_, json::value{{"video_link", "http://video.example/x"}}), "video_link");
  json::value set = {{"video_link", kPracticeLink}};
  auto saved = admin_->call_json("PUT", "/v1/practice/video-link", &set);
  ASSERT_TRUE(saved) << saved.error().message;
  auto shown = admin_->get_json("/v1/practice/video-link");
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_EQ(str(*shown, "video_link"), kPracticeLink);
  EXPECT_FALSE(desk_->get_json("/v1/practice/video-link"));

  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 2u);
  auto booked = desk_->post_json("/v1/appointments", booking(open[0], client_id_));  // telehealth, no link
  ASSERT_TRUE(booked) << booked.error().message;
  EXPECT_EQ(video_link(*booked), "");
  const std::string id = str(booked->at("appointment"), "id");
  auto own = client_->get_json("/v1/appointments/" + id);
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(video_link(*own), kPracticeLink);
  auto kim = sys_->login(slug_, "kim@" + slug_ + ".example");
  auto theirs = kim->get_json("/v1/appointments/" + id);
  ASSERT_TRUE(theirs) << theirs.error().message;
  EXPECT_EQ(video_link(*theirs), kPracticeLink);
  auto desk_view = desk_->get_json("/v1/appointments/" + id);
  ASSERT_TRUE(desk_view) << desk_view.error().message;
  EXPECT_EQ(json::serialize(*desk_view).find("video.example"), std::string::npos);
  auto listed = client_->get_json("/v1/appointments");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(json::serialize(*listed).find("video.example"), std::string::npos);
  EXPECT_EQ(fetch_feed(*kim).find("video.example"), std::string::npos);
  // A session with its own link keeps it.
  auto body = booking(open[1], client_id_);
  body.as_object()["video_link"] = kLink;
  auto with_own = desk_->post_json("/v1/appointments", body);
  ASSERT_TRUE(with_own) << with_own.error().message;
  auto read = client_->get_json("/v1/appointments/" + str(with_own->at("appointment"), "id"));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(video_link(*read), kLink);
  // Removed, it stands in no more.
  json::value none = {{"video_link", ""}};
  ASSERT_TRUE(admin_->call_json("PUT", "/v1/practice/video-link", &none));
  auto after = client_->get_json("/v1/appointments/" + id);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(video_link(*after), "");
}

TEST_F(Locations, ABookingMayHoldATypeAnotherWay) {
  add_office();
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 3u);
  // The in-person type by video: no location.
  auto by_video = in_room(open[0], client_id_, therapist_id_, "");
  by_video.as_object()["modality"] = "telehealth";
  auto v = desk_->post_json("/v1/appointments", by_video);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(str(v->at("appointment"), "modality"), "telehealth");
  EXPECT_EQ(str(v->at("appointment"), "location_id"), "");
  // The telehealth type in person, in a room of the office.
  auto in_person = booking(open[1], client_id_);
  in_person.as_object()["modality"] = "in_person";
  in_person.as_object()["location_id"] = location_id_;
  in_person.as_object()["room"] = "Room 2";
  auto p = desk_->post_json("/v1/appointments", in_person);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(str(p->at("appointment"), "modality"), "in_person");
  EXPECT_EQ(str(p->at("appointment"), "room"), "Room 2");
  auto phone = booking(open[2], client_id_);
  phone.as_object()["modality"] = "phone";
  auto refused = desk_->post_json("/v1/appointments", phone);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "modality");
}

TEST_F(Locations, ASeriesIsHeldWhereItSaysAndNeverDoublesARoomInAnyWeek) {
  add_office();
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 6u);
  // Lee's weekly client keeps only the middle one of three weeks in Room 1.
  auto lee = desk_->post_json("/v1/appointment-series", series_in(therapist2_id_, client2_id_, open[0], 3, "Room 1"));
  ASSERT_TRUE(lee) << lee.error().message;
  ASSERT_EQ(lee->at("booked").as_int64(), 3) << json::serialize(*lee);
  std::vector<std::string> weeks, lee_ids;
  for (const auto& o : lee->at("occurrences").as_array()) {
    weeks.push_back(str(o, "start_time"));
    lee_ids.push_back(str(o.at("appointment"), "id"));
    EXPECT_EQ(str(o.at("appointment"), "room"), "Room 1");
    EXPECT_EQ(str(o.at("appointment"), "location_name"), "Elm Street office");
  }
  for (std::size_t i : {0u, 2u})
    ASSERT_TRUE(desk_->post_json("/v1/appointments/" + lee_ids[i] + "/cancel", json::value{{"reason", "moved"}}));

  // Kim's series in Room 1: the first and last weeks are booked there, the middle one skipped naming the room.
  auto kim = desk_->post_json("/v1/appointment-series", series_in(therapist_id_, client_id_, open[0], 3, "Room 1"));
  ASSERT_TRUE(kim) << kim.error().message;
  EXPECT_EQ(kim->at("booked").as_int64(), 2) << json::serialize(*kim);
  const auto& occ = kim->at("occurrences").as_array();
  ASSERT_EQ(occ.size(), 3u);
  EXPECT_EQ(str(occ[0].at("appointment"), "room"), "Room 1");
  EXPECT_EQ(str(occ[1], "outcome"), "skipped");
  EXPECT_EQ(str(occ[1], "reason"), "room: the room is booked at an overlapping time");
  EXPECT_EQ(str(occ[2].at("appointment"), "room"), "Room 1");
  EXPECT_EQ(str(occ[2].at("appointment"), "location_id"), location_id_);

  // All or nothing: Lee's two weeks from Kim's last one collide in Room 1 in the first
  // week, so neither is booked; Room 2 takes both.
  auto whole = series_in(therapist2_id_, client2_id_, weeks[2], 2, "Room 1", "reject");
  auto refused = desk_->post_json("/v1/appointment-series", whole);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kAlreadyExists);
  EXPECT_EQ(refused.error().field, "room");
  auto lees = desk_->get_json("/v1/appointments?therapist_id=" + therapist2_id_ + "&status=booked");
  ASSERT_TRUE(lees) << lees.error().message;
  EXPECT_EQ(lees->at("appointments").as_array().size(), 1u) << json::serialize(*lees);  // the middle week only
  auto room2 = desk_->post_json("/v1/appointment-series",
                                series_in(therapist2_id_, client2_id_, weeks[2], 2, "Room 2", "reject"));
  ASSERT_TRUE(room2) << room2.error().message;
  EXPECT_EQ(room2->at("booked").as_int64(), 2);

  // The in-person type held by video for a whole series, with its own link that only
  // the client and therapist see.
  auto by_video = series_in(therapist_id_, client_id_, open[3], 2, "");
  by_video.as_object()["modality"] = "telehealth";
  by_video.as_object()["video_link"] = kLink;
  auto video = desk_->post_json("/v1/appointment-series", by_video);
  ASSERT_TRUE(video) << video.error().message;
  ASSERT_EQ(video->at("booked").as_int64(), 2) << json::serialize(*video);
  const auto& first = video->at("occurrences").at(0).at("appointment");
  EXPECT_EQ(str(first, "modality"), "telehealth");
  EXPECT_EQ(str(first, "location_id"), "");
  EXPECT_EQ(json::serialize(*video).find("video.example"), std::string::npos);
  auto own = client_->get_json("/v1/appointments/" + str(first, "id"));
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(video_link(*own), kLink);
  // A retry answers the same; the same key with another link is refused.
  auto retry = desk_->post_json("/v1/appointment-series", by_video);
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_TRUE(retry->at("replayed").as_bool());
  // A client booking their own weekly video sessions is told the link, as for one booking.
  json::value own_series = {{"idempotency_key", new_id()}, {"therapist_id", therapist_id_}, {"type_id", type_id_},
                            {"first_start_time", open[5]}, {"interval_weeks", 1}, {"count", 2},
                            {"video_link", kLink}};
  auto mine = client_->post_json("/v1/appointment-series", own_series);
  ASSERT_TRUE(mine) << mine.error().message;
  ASSERT_EQ(mine->at("booked").as_int64(), 2) << json::serialize(*mine);
  for (const auto& o : mine->at("occurrences").as_array())
    EXPECT_EQ(str(o.at("appointment"), "video_link"), kLink) << json::serialize(o);
  auto mine_again = client_->post_json("/v1/appointment-series", own_series);
  ASSERT_TRUE(mine_again) << mine_again.error().message;
  EXPECT_EQ(str(mine_again->at("occurrences").at(1).at("appointment"), "video_link"), kLink);
  by_video.as_object()["video_link"] = "https://video.example/other";
  auto reused = desk_->post_json("/v1/appointment-series", by_video);
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().field, "idempotency_key");
}

TEST_F(Locations, ASeriesNamesEachBadPlaceField) {
  add_office();
  json::value retire = {{"retire_rooms", json::array{"Room 2"}}};
  ASSERT_TRUE(admin_->call_json("PATCH", "/v1/locations/" + location_id_, &retire));
  auto open = slots(therapist_id_);
  ASSERT_FALSE(open.empty());
  auto field_of = [&](json::value body) {
    auto r = desk_->post_json("/v1/appointment-series", body);
    EXPECT_FALSE(r) << json::serialize(body);
    return r ? std::string("(accepted)") : r.error().field + " " + r.error().message;
  };
  EXPECT_EQ(field_of(series_in(therapist_id_, client_id_, open[0], 2, "Room 2")),
            "room room: the room is retired at the location");
  EXPECT_EQ(field_of(series_in(therapist_id_, client_id_, open[0], 2, "Room 9")),
            "room room: no such room at the location");
  auto elsewhere = series_in(therapist_id_, client_id_, open[0], 2, "");
  elsewhere.as_object()["location_id"] = "no-such-location";
  EXPECT_EQ(field_of(elsewhere), "location_id location_id: no such location in the practice");
  auto phone = series_in(therapist_id_, client_id_, open[0], 2, "");
  phone.as_object()["modality"] = "phone";
  EXPECT_EQ(field_of(phone).substr(0, 9), "modality ");
  auto link_in_person = series_in(therapist_id_, client_id_, open[0], 2, "");
  link_in_person.as_object()["video_link"] = kLink;
  EXPECT_EQ(field_of(link_in_person).substr(0, 11), "video_link ");
  auto room_online = series_in(therapist_id_, client_id_, open[0], 2, "Room 1");
  room_online.as_object()["modality"] = "telehealth";
  EXPECT_EQ(field_of(room_online).substr(0, 5), "room ");
  // Nothing was booked by any of them.
  auto listed = desk_->get_json("/v1/appointments?therapist_id=" + therapist_id_);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_TRUE(listed->at("appointments").as_array().empty()) << json::serialize(*listed);
}

}  // namespace
}  // namespace alliance::testing
