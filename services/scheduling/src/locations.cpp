// SchedulingService's locations: where a practice sees clients in person, and where
// a booking says its appointment happens (a location and room, or a video link).
#include <algorithm>
#include <set>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "handler_common.hpp"
#include "locations.hpp"
#include "scheduling_service.hpp"

namespace alliance::scheduling {

namespace {

constexpr int kMaxRooms = 50;
constexpr std::size_t kMaxVideoLink = 500;
constexpr std::size_t kMaxRoomName = 60;

// Room names of a request: each 1..60 characters on one line.
Status check_rooms(const google::protobuf::RepeatedPtrField<std::string>& rooms, std::string_view name) {
  for (int i = 0; i < rooms.size(); ++i) {
    const std::string field = std::string(name) + "[" + std::to_string(i) + "]";
    if (auto s = validate_text(field, rooms.Get(i), kMaxRoomName, Lines::kOne); !s) return s;
  }
  return Status{};
}

}  // namespace

Placement placement_of(const pb::BookAppointmentRequest& req) {
  return Placement{req.modality(), req.location_id(), req.room(), req.video_link()};
}

Placement placement_of(const pb::BookSeriesRequest& req) {
  return Placement{req.modality(), req.location_id(), req.room(), req.video_link()};
}

std::string placement_digest(const Placement& asked) {
  std::string place;
  if (!asked.location_id.empty() || !asked.room.empty() || !asked.video_link.empty())
    place = asked.location_id + '\n' + asked.room + '\n' + asked.video_link;
  if (!asked.modality.empty()) place += "\nmodality " + asked.modality;
  return place;
}

Status check_video_link(std::string_view link, std::string_view field) {
  const std::string f(field);
  if (link.size() > kMaxVideoLink)
    return invalid_argument(f, f + ": at most " + std::to_string(kMaxVideoLink) + " characters");
  if (link.rfind("https://", 0) != 0 || link.size() == 8 ||
      std::any_of(link.begin(), link.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return invalid_argument(f, f + ": must be an https:// link without spaces");
  return Status{};
}

asio::awaitable<Result<pb::LocationResponse>> SchedulingService::create_location(const pb::CreateLocationRequest& req,
                                                                                  const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin) co_return denied("only an admin can add a location");
  if (auto s = validate_text("name", req.name(), 100, Lines::kOne); !s) co_return s.error();
  if (auto s = validate_text("address", req.address(), 300, Lines::kMany); !s) co_return s.error();
  if (req.rooms_size() > kMaxRooms)
    co_return invalid_argument("rooms", "rooms: at most " + std::to_string(kMaxRooms));
  Location l;
  std::set<std::string, std::less<>> seen;
  if (auto s = check_rooms(req.rooms(), "rooms"); !s) co_return s.error();
  for (int i = 0; i < req.rooms_size(); ++i) {
    const std::string field = "rooms[" + std::to_string(i) + "]";
    if (!seen.insert(req.rooms(i)).second) co_return invalid_argument(field, field + ": named twice");
    l.rooms.push_back(req.rooms(i));
  }
  l.id = new_id();
  l.practice_id = caller->practice_id;
  l.name = req.name();
  l.address = req.address();
  l.created_by = caller->user_id;
  l.created_unix_ms = now_unix_ms();
  if (auto s = co_await store_.create_location(l); !s) co_return s.error();
  log::info("location added", {{"location_id", l.id}, {"by", caller->user_id}});
  pb::LocationResponse resp;
  fill(*resp.mutable_location(), l);
  co_return resp;
}

asio::awaitable<Result<pb::ListLocationsResponse>> SchedulingService::list_locations(const pb::ListLocationsRequest&,
                                                                                     const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto locations = co_await store_.list_locations(caller->practice_id);
  if (!locations) co_return locations.error();
  pb::ListLocationsResponse resp;
  for (const auto& l : *locations) fill(*resp.add_locations(), l);
  co_return resp;
}

asio::awaitable<Result<pb::LocationResponse>> SchedulingService::update_location(const pb::UpdateLocationRequest& req,
                                                                                  const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin) co_return denied("only an admin can change a location");
  if (auto s = require_id(req.location_id(), "location_id"); !s) co_return s.error();
  LocationChange change;
  if (req.has_name()) {
    if (auto s = validate_text("name", req.name(), 100, Lines::kOne); !s) co_return s.error();
    change.name = req.name();
  }
  if (req.has_address()) {
    if (auto s = validate_text("address", req.address(), 300, Lines::kMany); !s) co_return s.error();
    change.address = req.address();
  }
  if (req.add_rooms_size() > kMaxRooms)
    co_return invalid_argument("add_rooms", "add_rooms: at most " + std::to_string(kMaxRooms));
  if (req.retire_rooms_size() > kMaxRooms)
    co_return invalid_argument("retire_rooms", "retire_rooms: at most " + std::to_string(kMaxRooms));
  if (auto s = check_rooms(req.add_rooms(), "add_rooms"); !s) co_return s.error();
  if (auto s = check_rooms(req.retire_rooms(), "retire_rooms"); !s) co_return s.error();
  change.add_rooms.assign(req.add_rooms().begin(), req.add_rooms().end());
  change.retire_rooms.assign(req.retire_rooms().begin(), req.retire_rooms().end());
  if (!change.name && !change.address && change.add_rooms.empty() && change.retire_rooms.empty())
    co_return invalid_argument("name", "name: give something to change (name, address, add_rooms or retire_rooms)");
  auto updated = co_await store_.update_location(caller->practice_id, req.location_id(), std::move(change),
                                                 caller->user_id, now_unix_ms());
  if (!updated) co_return updated.error();
  log::info("location changed", {{"location_id", updated->id}, {"by", caller->user_id}});
  pb::LocationResponse resp;
  fill(*resp.mutable_location(), *updated);
  co_return resp;
}

namespace {

pb::PracticeVideoLinkResponse video_link_response(const PracticeVideoLink& link) {
  pb::PracticeVideoLinkResponse resp;
  resp.set_video_link(link.video_link);
  resp.set_updated_by(link.updated_by);
  resp.set_updated_unix_ms(link.updated_unix_ms);
  return resp;
}

}  // namespace

asio::awaitable<Result<pb::PracticeVideoLinkResponse>> SchedulingService::set_practice_video_link(
    const pb::SetPracticeVideoLinkRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin) co_return denied("only an admin can set the practice's video link");
  if (!req.video_link().empty()) {
    if (auto s = check_video_link(req.video_link(), "video_link"); !s) co_return s.error();
  }
  PracticeVideoLink link{caller->practice_id, req.video_link(), caller->user_id, now_unix_ms()};
  if (auto s = co_await store_.set_practice_video_link(link); !s) co_return s.error();
  log::info("practice video link set", {{"practice_id", caller->practice_id}, {"by", caller->user_id}});
  co_return video_link_response(link);
}

asio::awaitable<Result<pb::PracticeVideoLinkResponse>> SchedulingService::get_practice_video_link(
    const pb::GetPracticeVideoLinkRequest&, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin) co_return denied("only an admin can see the practice's video link");
  auto link = co_await store_.practice_video_link(caller->practice_id);
  if (!link) co_return link.error();
  co_return video_link_response(link->value_or(PracticeVideoLink{}));
}

asio::awaitable<Result<Location>> practice_location(SchedulingStore& store, const std::string& practice_id,
                                                    const std::string& id, std::string_view field) {
  const std::string f(field);
  if (id.size() > 64) co_return invalid_argument(f, f + ": too long");
  auto found = co_await store.find_location(id);
  if (!found) co_return found.error();
  if (!*found || (*found)->practice_id != practice_id)
    co_return Error{Code::kNotFound, f + ": no such location in the practice", f};
  co_return std::move(**found);
}

asio::awaitable<Status> place_appointment(SchedulingStore& store, const std::string& practice_id,
                                          const AppointmentType& type, const Placement& asked, Appointment& a) {
  if (!asked.modality.empty() && asked.modality != "in_person" && asked.modality != "telehealth")
    co_return invalid_argument("modality", "modality: must be \"in_person\" or \"telehealth\"");
  a.modality = asked.modality.empty() ? type.modality : asked.modality;
  if (a.modality == "telehealth") {
    if (!asked.location_id.empty())
      co_return invalid_argument("location_id", "location_id: a telehealth appointment has no location");
    if (!asked.room.empty()) co_return invalid_argument("room", "room: a telehealth appointment has no room");
    if (!asked.video_link.empty()) {
      if (auto s = check_video_link(asked.video_link, "video_link"); !s) co_return s;
      a.video_link = asked.video_link;
    }
    co_return Status{};
  }
  if (!asked.video_link.empty())
    co_return invalid_argument("video_link", "video_link: only a telehealth appointment has a video link");
  // A type held by video has no default location: an in-person booking of it names one or none.
  const std::string location_id = !asked.location_id.empty()       ? asked.location_id
                                  : type.modality == "in_person" ? type.default_location_id
                                                                  : std::string();
  if (location_id.empty()) {
    if (!asked.room.empty()) co_return invalid_argument("room", "room: needs a location_id");
    co_return Status{};
  }
  auto location = co_await practice_location(store, practice_id, location_id, "location_id");
  if (!location) co_return location.error();
  if (!asked.room.empty() &&
      std::find(location->rooms.begin(), location->rooms.end(), asked.room) == location->rooms.end()) {
    const bool retired = std::find(location->retired_rooms.begin(), location->retired_rooms.end(), asked.room) !=
                         location->retired_rooms.end();
    co_return Error{Code::kNotFound,
                    retired ? "room: the room is retired at the location" : "room: no such room at the location",
                    "room"};
  }
  a.location_id = location->id;
  a.location_name = location->name;
  a.location_address = location->address;
  a.room = asked.room;
  co_return Status{};
}

asio::awaitable<void> show_video_link(SchedulingStore& store, pb::Appointment& out, const Appointment& a,
                                      const Caller& caller) {
  if (caller.user_id != a.client_id && caller.user_id != a.therapist_id) co_return;
  if (!a.video_link.empty() || a.modality != "telehealth") {
    out.set_video_link(a.video_link);
    co_return;
  }
  auto practice = co_await store.practice_video_link(a.practice_id);
  if (!practice) {
    log::warn("practice video link not read", {{"appointment_id", a.id}, {"reason", practice.error().message}});
    co_return;
  }
  if (*practice) out.set_video_link((*practice)->video_link);
}

asio::awaitable<void> show_video_links(SchedulingStore& store, pb::BookSeriesResponse& resp, const Caller& caller) {
  for (auto& o : *resp.mutable_occurrences()) {
    if (!o.has_appointment()) continue;
    auto& out = *o.mutable_appointment();
    if (out.modality() != "telehealth" || (caller.user_id != out.client_id() && caller.user_id != out.therapist_id()))
      continue;
    auto a = co_await store.find_appointment(out.id());
    if (!a || !*a) continue;
    co_await show_video_link(store, out, **a, caller);
  }
}

}  // namespace alliance::scheduling
