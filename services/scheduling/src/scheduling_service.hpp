#pragma once
// SchedulingService: scheduling's RPC handlers as a plain class with no sockets.
// Each method takes the protobuf request and the call's context (the Caller the
// gateway established from a verified token) and returns a Result; the RPC layer
// (scheduling_rpc.hpp) owns the wire. Runs on one I/O executor; SQLite runs on the
// store's threads and slot arithmetic is pure, so no handler blocks it.
//
// Access (deny by default; an appointment the caller may not see is kNotFound):
//   types          admin/therapist create; everyone in the practice lists
//   availability   the therapist (own) or an admin sets; everyone in the practice reads
//   slots          everyone in the practice
//   book           front desk/admin for any client of the practice; a therapist on
//                  their own calendar, for a client whose care team they are on (any
//                  client of the practice when its policy therapists_book_any_client
//                  says so; another is kNotFound on client_id, as for no such
//                  client); a client for
//                  themself, with a therapist on their care team, for a type that
//                  allows self-booking (single bookings and series alike)
//   see            client: own; therapist: own calendar; front desk/admin: the practice
//   confirm        the client (own), the therapist (own), front desk, admin
//   complete/no-show  the therapist (own), front desk, admin; after the start
//   cancel         the client (own), the therapist (own), front desk, admin; a client
//                  inside the cancellation window is flagged late_cancellation
//   reschedule     like cancel; a client only for self-bookable types (one occurrence
//                  or, reschedule_series, all future ones of a series)
//   event feed     list_events_since: services calling as themselves (no Caller);
//                  the RPC table allows it to the reminders service only
//
// Every Appointment answered (and every event snapshot) carries the client's local
// start in the client's own zone from the UserDirectory (the therapist's when the
// client has none) and late_cancellation_from (start - cancellation_window).
#include <chrono>
#include <functional>
#include <string>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/net/rpc_server.hpp"
#include "scheduling_proto.hpp"
#include "scheduling_store.hpp"
#include "user_directory.hpp"

namespace alliance::scheduling {

struct SchedulingOptions {
  // A client's cancellation less than this before the start is a late cancellation.
  std::chrono::minutes cancellation_window{24 * 60};
  // "now" for every rule (tests pin it); defaults to the system clock.
  std::function<Instant()> clock;
  // Called on the service's executor after a committed cancel or reschedule gave
  // time back (Waitlist::slot_freed).
  std::function<void(FreedSlot)> slot_freed;
};

class SchedulingService {
 public:
  // `store` and `directory` must outlive the service. `changed` (optional) is called
  // after every committed change, on the service's executor (EventPublisher::notify).
  SchedulingService(SchedulingStore& store, UserDirectory& directory, SchedulingOptions options,
                    std::function<void()> changed = {});

  using Ctx = net::CallContext;
  asio::awaitable<Result<pb::CreateAppointmentTypeResponse>> create_appointment_type(
      const pb::CreateAppointmentTypeRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListAppointmentTypesResponse>> list_appointment_types(
      const pb::ListAppointmentTypesRequest&, const Ctx&);
  asio::awaitable<Result<pb::SetAvailabilityResponse>> set_availability(const pb::SetAvailabilityRequest&,
                                                                         const Ctx&);
  asio::awaitable<Result<pb::GetAvailabilityResponse>> get_availability(const pb::GetAvailabilityRequest&,
                                                                         const Ctx&);
  asio::awaitable<Result<pb::ListSlotsResponse>> list_slots(const pb::ListSlotsRequest&, const Ctx&);
  // The same open starts as list_slots, as runs on the type's grid (ListSlotRuns).
  asio::awaitable<Result<pb::ListSlotRunsResponse>> list_slot_runs(const pb::ListSlotsRequest&, const Ctx&);
  asio::awaitable<Result<pb::AppointmentResponse>> book_appointment(const pb::BookAppointmentRequest&, const Ctx&);
  asio::awaitable<Result<pb::AppointmentResponse>> get_appointment(const pb::GetAppointmentRequest&, const Ctx&);
  asio::awaitable<Result<pb::AppointmentResponse>> confirm_appointment(const pb::ConfirmAppointmentRequest&,
                                                                       const Ctx&);
  asio::awaitable<Result<pb::AppointmentResponse>> cancel_appointment(const pb::CancelAppointmentRequest&,
                                                                      const Ctx&);
  asio::awaitable<Result<pb::AppointmentResponse>> complete_appointment(const pb::CompleteAppointmentRequest&,
                                                                        const Ctx&);
  asio::awaitable<Result<pb::AppointmentResponse>> mark_no_show(const pb::MarkNoShowRequest&, const Ctx&);
  asio::awaitable<Result<pb::AppointmentResponse>> reschedule_appointment(
      const pb::RescheduleAppointmentRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListAppointmentsResponse>> list_appointments(const pb::ListAppointmentsRequest&,
                                                                          const Ctx&);
  asio::awaitable<Result<pb::BookSeriesResponse>> book_series(const pb::BookSeriesRequest&, const Ctx&);
  asio::awaitable<Result<pb::CancelSeriesResponse>> cancel_series(const pb::CancelSeriesRequest&, const Ctx&);
  // Moves an occurrence and every later one (not started, not cancelled) keeping the
  // series' local-time rhythm; one transaction, one "rescheduled" event per moved one.
  asio::awaitable<Result<pb::RescheduleSeriesResponse>> reschedule_series(const pb::RescheduleSeriesRequest&,
                                                                          const Ctx&);
  // The outbox in seq order: events with seq > after_seq, at most limit (1..1000,
  // 0 = 500), with last_seq and oldest_seq (ListEventsSince).
  asio::awaitable<Result<pb::ListEventsSinceResponse>> list_events_since(const pb::ListEventsSinceRequest&,
                                                                         const Ctx&);
  // Locations (locations.cpp): an admin adds and changes one; everyone in the practice
  // lists them. The practice's default video link: an admin sets and reads it.
  asio::awaitable<Result<pb::LocationResponse>> create_location(const pb::CreateLocationRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListLocationsResponse>> list_locations(const pb::ListLocationsRequest&, const Ctx&);
  asio::awaitable<Result<pb::LocationResponse>> update_location(const pb::UpdateLocationRequest&, const Ctx&);
  asio::awaitable<Result<pb::PracticeVideoLinkResponse>> set_practice_video_link(const pb::SetPracticeVideoLinkRequest&,
                                                                                  const Ctx&);
  asio::awaitable<Result<pb::PracticeVideoLinkResponse>> get_practice_video_link(const pb::GetPracticeVideoLinkRequest&,
                                                                                  const Ctx&);

 private:
  // What list_slots and list_slot_runs answer from: the type's rules, the therapist's
  // zone and the open starts, after every check of the request.
  struct SlotSearch {
    SlotRules rules;
    std::string time_zone;
    std::vector<OpenStart> starts;
  };
  asio::awaitable<Result<SlotSearch>> search_slots(const pb::ListSlotsRequest& req, const Ctx& ctx);
  struct BookingPlan;  // what book and book_series share after validation
  asio::awaitable<Result<BookingPlan>> plan_booking(const Caller& caller, const std::string& therapist_id,
                                                    const std::string& client_id, const std::string& type_id);
  // The appointment if the caller may see it, else kNotFound.
  asio::awaitable<Result<Appointment>> visible_appointment(const Caller& caller, const std::string& id);
  // `saved` (optional) receives the appointment as committed.
  struct Closing {
    std::string permission;      // what may_change() is asked
    std::string history_action;  // recorded in the history and the event
    std::string verb;            // for "cannot be <verb>" messages
    AppointmentStatus status;
    std::string idempotency_key;  // the request's, if any
    std::string request_hash;     // request_digest() of the request
  };
  asio::awaitable<Result<pb::AppointmentResponse>> close_after_start(const Ctx& ctx, const std::string& appointment_id,
                                                                     std::int64_t expected_version, Closing closing);
  // Applies `decide` to the appointment; `saved` gets the result of a change that
  // happened (not of a replay). `key`: the request's idempotency record, if it has one.
  asio::awaitable<Result<pb::AppointmentResponse>> transition(const Caller& caller, const std::string& id,
                                                              Decide decide, Appointment* saved = nullptr,
                                                              const IdempotencyRecord* key = nullptr);
  // The answer to a retry whose key was seen: the appointment as it is now, replayed
  // (with the video link when `caller` is its client or therapist, as the first answer).
  asio::awaitable<Result<pb::AppointmentResponse>> answer_replay(const IdempotencyRecord& seen,
                                                                 const std::string& request_hash,
                                                                 const Caller& caller);
  void slot_freed(const Appointment& a);
  // What answers and events show beside an appointment of this client.
  asio::awaitable<ClientTimes> client_times(std::string client_id);
  Instant now() const;
  void changed();

  SchedulingStore& store_;
  UserDirectory& directory_;
  SchedulingOptions options_;
  std::function<void()> changed_;
};

// Visibility rule shared by every read: same practice and (staff, or own as therapist/client).
bool may_see(const Caller& caller, const Appointment& a);

}  // namespace alliance::scheduling
