#pragma once
// Calendar: what a front desk looks at and arranges around appointments: therapists'
// time blocks (create, list, delete) and the day or week view of one or several
// therapists, and staff notes on appointments. A plain class with no sockets, on the service's executor; SQLite work
// runs on the store's threads.
//
// Access (a therapist the caller may not see is kNotFound on therapist_id):
//   time blocks   create/delete: the therapist (own), front desk, admin of the practice;
//                 list: everyone in the practice, a client without reason and created_by
//   calendar view a therapist their own; front desk and admins any therapist of the practice
//   staff notes   the appointment's therapist, front desk, admins (a client: kPermissionDenied)
#include <chrono>
#include <functional>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/net/rpc_server.hpp"
#include "scheduling_proto.hpp"
#include "scheduling_store.hpp"
#include "user_directory.hpp"

namespace alliance::redis {
class Client;
}

namespace alliance::scheduling {

// The staff push a time block's creation or deletion sends (body: TimeBlockChange).
inline constexpr std::string_view kTimeBlockPush = "time_block.changed";

class Calendar {
 public:
  using Ctx = net::CallContext;
  // `store` and `directory` must outlive the object; `cancellation_window` is the
  // service's (appointments show late_cancellation_from); `clock` (tests) defaults to
  // the system clock. `redis` (optional, outlives the object) hears "time_block.changed"
  // on the practice's staff channel after each block created or deleted.
  Calendar(SchedulingStore& store, UserDirectory& directory, std::chrono::minutes cancellation_window,
           std::function<Instant()> clock = {}, redis::Client* redis = nullptr);

  asio::awaitable<Result<pb::TimeBlockResponse>> create_time_block(const pb::CreateTimeBlockRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListTimeBlocksResponse>> list_time_blocks(const pb::ListTimeBlocksRequest&, const Ctx&);
  asio::awaitable<Result<pb::TimeBlockResponse>> delete_time_block(const pb::DeleteTimeBlockRequest&, const Ctx&);
  // A day or a week of one or several therapists: appointments (with staff notes),
  // time-block occurrences, days off and working hours, in the view's zone (asked, else
  // the practice's, the caller's, the first therapist's, UTC).
  asio::awaitable<Result<pb::GetCalendarResponse>> get_calendar(const pb::GetCalendarRequest&, const Ctx&);
  asio::awaitable<Result<pb::AppointmentNoteResponse>> set_note(const pb::SetAppointmentNoteRequest&, const Ctx&);
  asio::awaitable<Result<pb::AppointmentNoteResponse>> get_note(const pb::GetAppointmentNoteRequest&, const Ctx&);

 private:
  // Who may create or delete a block of `therapist_id`.
  asio::awaitable<Status> may_arrange(const Caller& caller, const std::string& therapist_id);
  // The therapists a calendar view shows, checked against what the caller may see.
  asio::awaitable<Result<std::vector<std::string>>> view_therapists(const Caller& caller, const std::string& ids);
  // One therapist's part of the view [from, to), with spans in `zone`.
  asio::awaitable<Result<pb::TherapistCalendar>> therapist_calendar(const Caller& caller, const std::string& id,
                                                                    Instant from, Instant to,
                                                                    const date::time_zone* zone);
  // The appointment if `caller` is staff who may see it (notes are theirs only).
  asio::awaitable<Result<Appointment>> noted_appointment(const Caller& caller, const std::string& id);
  Instant now() const;
  // At-most-once wake-up for open consoles: the block is durable, a lost push costs a redraw.
  asio::awaitable<void> announce(const TimeBlock& block, std::string_view change);

  SchedulingStore& store_;
  UserDirectory& directory_;
  std::chrono::minutes cancellation_window_;
  std::function<Instant()> clock_;
  redis::Client* redis_;
};

}  // namespace alliance::scheduling
