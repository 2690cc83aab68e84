#pragma once
// CalendarFeed: each therapist's private, revocable iCalendar URL. rotate() makes a
// new secret token (32 random bytes, base64url; only its SHA-256 is stored) and
// revokes the therapist's older ones; get() serves the feed for a live token with
// no signed-in caller (the token is the credential) through build_ics_feed, so an
// event carries only "Appointment" and the type's name. Runs on the service's
// executor; SQLite work runs on the store's threads.
#include <functional>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/net/rpc_server.hpp"
#include "scheduling_proto.hpp"
#include "scheduling_store.hpp"
#include "user_directory.hpp"

namespace alliance::scheduling {

class CalendarFeed {
 public:
  using Ctx = net::CallContext;
  // `store` and `directory` must outlive the object; `clock` (tests) defaults to the system clock.
  CalendarFeed(SchedulingStore& store, UserDirectory& directory, std::function<Instant()> clock = {});

  // The therapist for themself, an admin for a therapist of the practice.
  asio::awaitable<Result<pb::RotateCalendarFeedResponse>> rotate(const pb::RotateCalendarFeedRequest&, const Ctx&);
  // Unknown, malformed or revoked token -> kNotFound field feed_token.
  asio::awaitable<Result<pb::CalendarFeedResponse>> get(const pb::GetCalendarFeedRequest&, const Ctx&);

 private:
  SchedulingStore& store_;
  UserDirectory& directory_;
  std::function<Instant()> clock_;
};

}  // namespace alliance::scheduling
