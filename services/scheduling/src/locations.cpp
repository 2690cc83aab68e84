// SchedulingService's locations: where a practice sees clients in person, and where
// a booking says its appointment happens (a location and room, or a video link).
#include <algorithm>
#include <set>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "handler_common.hpp"
#include "scheduling_service.hpp"

namespace alliance::scheduling {

namespace {

constexpr int kMaxRooms = 50;
constexpr std::size_t kMaxVideoLink = 500;

}  // namespace

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
  for (int i = 0; i < req.rooms_size(); ++i) {
    const std::string field = "rooms[" + std::to_string(i) + "]";
    if (auto s = validate_text(field, req.rooms(i), 60, Lines::kOne); !s) co_return s.error();
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

asio::awaitable<Result<Location>> SchedulingService::practice_location(const Caller& caller, const std::string& id,
                                                                       std::string_view field) {
  const std::string f(field);
  if (id.size() > 64) co_return invalid_argument(f, f + ": too long");
  auto found = co_await store_.find_location(id);
  if (!found) co_return found.error();
  if (!*found || (*found)->practice_id != caller.practice_id)
    co_return Error{Code::kNotFound, f + ": no such location in the practice", f};
  co_return std::move(**found);
}

asio::awaitable<Status> SchedulingService::place_appointment(const Caller& caller, const AppointmentType& type,
                                                             const pb::BookAppointmentRequest& req, Appointment& a) {
  if (type.modality == "telehealth") {
    if (!req.location_id().empty())
      co_return invalid_argument("location_id", "location_id: a telehealth appointment has no location");
    if (!req.room().empty()) co_return invalid_argument("room", "room: a telehealth appointment has no room");
    if (!req.video_link().empty()) {
      const std::string& link = req.video_link();
      if (link.size() > kMaxVideoLink)
        co_return invalid_argument("video_link", "video_link: at most " + std::to_string(kMaxVideoLink) +
                                                     " characters");
      if (link.rfind("https://", 0) != 0 || link.size() == 8 ||
          std::any_of(link.begin(), link.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
        co_return invalid_argument("video_link", "video_link: must be an https:// link without spaces");
      a.video_link = link;
    }
    co_return Status{};
  }
  if (!req.video_link().empty())
    co_return invalid_argument("video_link", "video_link: only a telehealth appointment has a video link");
  const std::string location_id = req.location_id().empty() ? type.default_location_id : req.location_id();
  if (location_id.empty()) {
    if (!req.room().empty()) co_return invalid_argument("room", "room: needs a location_id");
    co_return Status{};
  }
  auto location = co_await practice_location(caller, location_id, "location_id");
  if (!location) co_return location.error();
  if (!req.room().empty() &&
      std::find(location->rooms.begin(), location->rooms.end(), req.room()) == location->rooms.end())
    co_return Error{Code::kNotFound, "room: no such room at the location", "room"};
  a.location_id = location->id;
  a.location_name = location->name;
  a.location_address = location->address;
  a.room = req.room();
  co_return Status{};
}

void show_video_link(pb::Appointment& out, const Appointment& a, const Caller& caller) {
  if (caller.user_id == a.client_id || caller.user_id == a.therapist_id) out.set_video_link(a.video_link);
}

}  // namespace alliance::scheduling
