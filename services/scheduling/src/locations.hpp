#pragma once
// Where an appointment happens, decided the same way by every kind of booking (single,
// series, waitlist offer): in person at a location of the practice and maybe one of
// its rooms, or by video with the appointment's own link or the practice's default.
// Coroutines on the caller's executor; the store does the SQLite work.
#include <string>
#include <string_view>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "scheduling_proto.hpp"
#include "scheduling_store.hpp"

namespace alliance::scheduling {

// What a booking asks for; "" everywhere = the type's modality and default location.
struct Placement {
  std::string modality;     // "" | "in_person" | "telehealth"
  std::string location_id;  // in_person; "" = the type's default
  std::string room;
  std::string video_link;   // telehealth; "" = the practice's default when shown
};
Placement placement_of(const pb::BookAppointmentRequest& req);
Placement placement_of(const pb::BookSeriesRequest& req);

// What `asked` adds to a booking's idempotency digest: "" when nothing is asked, so
// keys stored before locations existed still match their retries.
std::string placement_digest(const Placement& asked);

// An https:// link without spaces, at most 500 characters; else kInvalidArgument on `field`.
Status check_video_link(std::string_view link, std::string_view field);

// A location of `practice_id`, else kNotFound on `field`.
asio::awaitable<Result<Location>> practice_location(SchedulingStore& store, const std::string& practice_id,
                                                    const std::string& id, std::string_view field);

// Sets a.modality (asked, else the type's) and where `a` happens: in_person a location
// (asked, else the type's default) and a room of it in use, telehealth a video link.
// Each refusal names its field.
asio::awaitable<Status> place_appointment(SchedulingStore& store, const std::string& practice_id,
                                          const AppointmentType& type, const Placement& asked, Appointment& a);

// The video link goes only to the appointment's client and therapist: fill() leaves it
// out (events, lists, other staff), and the answers to those two add it with this: the
// appointment's own link, else for telehealth the practice's default.
asio::awaitable<void> show_video_link(SchedulingStore& store, pb::Appointment& out, const Appointment& a,
                                      const Caller& caller);
// show_video_link for each booked occurrence of a series answer the caller is in.
asio::awaitable<void> show_video_links(SchedulingStore& store, pb::BookSeriesResponse& resp, const Caller& caller);

}  // namespace alliance::scheduling
