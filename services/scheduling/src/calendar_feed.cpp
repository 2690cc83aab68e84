#include "calendar_feed.hpp"

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/crypto/encoding.hpp"
#include "domain/ics_feed.hpp"

namespace alliance::scheduling {
namespace {

using std::chrono::days;

constexpr std::size_t kTokenBytes = 32;
constexpr days kFeedPast{90};
constexpr days kFeedAhead{366};

Error no_feed() { return Error{Code::kNotFound, "feed_token: no such calendar feed", "feed_token"}; }

}  // namespace

CalendarFeed::CalendarFeed(SchedulingStore& store, UserDirectory& directory, std::function<Instant()> clock)
    : store_(store), directory_(directory), clock_(std::move(clock)) {}

asio::awaitable<Result<pb::RotateCalendarFeedResponse>> CalendarFeed::rotate(const pb::RotateCalendarFeedRequest& req,
                                                                              const Ctx& ctx) {
  const auto& c = ctx.caller;
  auto role = parse_role(c.role());
  if (c.user_id().empty() || c.practice_id().empty() || !role)
    co_return make_error(Code::kUnauthenticated, "sign in first");
  std::string therapist_id = req.therapist_id();
  if (*role == Role::kTherapist) {
    if (!therapist_id.empty() && therapist_id != c.user_id())
      co_return Error{Code::kPermissionDenied, "therapist_id: a therapist can only rotate their own feed",
                      "therapist_id"};
    therapist_id = c.user_id();
  } else if (*role == Role::kAdmin) {
    if (therapist_id.empty()) co_return invalid_argument("therapist_id", "therapist_id: is required");
    if (therapist_id.size() > 64) co_return invalid_argument("therapist_id", "therapist_id: too long");
    auto user = co_await directory_.find_user(therapist_id);
    if (!user) co_return user.error();
    if (!*user || (*user)->practice_id != c.practice_id() || (*user)->role != Role::kTherapist)
      co_return Error{Code::kNotFound, "therapist_id: no such therapist", "therapist_id"};
  } else {
    co_return Error{Code::kPermissionDenied, "only the therapist or an admin can rotate a calendar feed", {}};
  }
  const std::string token = crypto::base64url_encode(random_bytes(kTokenBytes));
  if (auto s = co_await store_.rotate_feed_token(therapist_id, c.practice_id(), crypto::sha256(token), c.user_id());
      !s)
    co_return s.error();
  log::info("calendar feed rotated", {{"therapist_id", therapist_id}, {"by", c.user_id()}});
  pb::RotateCalendarFeedResponse resp;
  resp.set_therapist_id(therapist_id);
  resp.set_token(token);
  resp.set_path("/v1/calendars/" + token + ".ics");
  co_return resp;
}

namespace {

// "Name, Room, Address" of an in-person appointment with a location; "" otherwise.
std::string feed_location(const Appointment& a) {
  if (a.location_id.empty()) return {};
  std::string out = a.location_name;
  if (!a.room.empty()) out += ", " + a.room;
  // An address's line breaks become ", " (a calendar app shows LOCATION on one line).
  std::string address;
  for (char c : a.location_address) {
    if (c == '\r') continue;
    if (c == '\n') address += ", ";
    else address += c;
  }
  if (!address.empty()) out += ", " + address;
  return out;
}

}  // namespace

asio::awaitable<Result<pb::CalendarFeedResponse>> CalendarFeed::get(const pb::GetCalendarFeedRequest& req,
                                                                    const Ctx&) {
  // Anything that is not a token we could have made is simply unknown.
  auto raw = crypto::base64url_decode(req.feed_token());
  if (!raw || raw->size() != kTokenBytes) co_return no_feed();
  auto owner = co_await store_.find_feed_token(crypto::sha256(req.feed_token()));
  if (!owner) co_return owner.error();
  if (!*owner) co_return no_feed();
  const Instant now = clock_ ? clock_() : now_instant();
  AppointmentQuery q;
  q.practice_id = (*owner)->practice_id;
  q.therapist_id = (*owner)->therapist_id;
  q.from = now - kFeedPast;
  q.to = now + kFeedAhead;
  q.limit = 2000;
  auto rows = co_await store_.list_appointments(std::move(q));
  if (!rows) co_return rows.error();
  std::vector<FeedEvent> events;
  events.reserve(rows->size());
  // Only what FeedEvent can carry: never the client, reasons or who changed what.
  for (const auto& a : *rows)
    events.push_back(FeedEvent{a.id, a.start, a.end, a.type_name, std::string(status_name(a.status)), a.version,
                               Instant(std::chrono::seconds(a.updated_unix_ms / 1000)), feed_location(a)});
  pb::CalendarFeedResponse resp;
  resp.set_content_type("text/calendar; charset=utf-8");
  resp.set_body(build_ics_feed("Alliance appointments", events, now));
  co_return resp;
}

}  // namespace alliance::scheduling
