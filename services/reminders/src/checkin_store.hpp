#pragma once
// CheckinStore: session check-ins in the reminders database (ReminderStore's file and
// writer; its schema is migration 3 there): one check-in per completed appointment,
// made in the transaction that applies the completion event (make_checkin), its
// pushes, acknowledgement, answer, expiry, the alerts an answer raises, the practice's
// check-in policy and clients' opt-outs. Callable from any executor; results come
// back on the caller's.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/store/database.hpp"
#include "domain/checkin.hpp"

namespace alliance::reminders {

// The check-in tables (ReminderStore::open applies them as schema version 3).
std::string_view checkin_schema();

struct CheckinRow {
  std::string id, appointment_id, practice_id, client_id, therapist_id;
  std::string state;  // "pending" | "submitted" | "expired"
  std::int64_t session_start_ms = 0, created_ms = 0, expires_ms = 0;
  std::int64_t pushed_ms = 0, acked_ms = 0, submitted_ms = 0;
  CheckinRatings ratings;  // once submitted
  SealedComment comment;
};

struct AlertRow {
  std::string id, checkin_id, practice_id, therapist_id, client_id, appointment_id;
  std::vector<std::string> reasons;
  int total = 0;
  int previous_average_x100 = 0;  // times 100
  std::int64_t created_ms = 0;
};

struct PolicyOfCheckins {
  std::string practice_id;
  CheckinPolicy policy;
  std::string updated_by;
  std::int64_t updated_ms = 0;  // 0: never set (the defaults)
};

struct SubmitResult {
  CheckinRow checkin;
  bool replayed = false;
  std::optional<AlertRow> alert;
};

struct TherapistSummary {
  std::string therapist_id;
  int submitted = 0, unanswered = 0;
  int average_total_x100 = 0;  // over submitted, times 100
};

// In a write transaction: the check-in of a just-completed appointment, unless it has
// one or the client turned check-ins off. True if one was made.
bool make_checkin(store::Connection& c, std::string_view appointment_id, std::string_view practice_id,
                  std::string_view client_id, std::string_view therapist_id, std::int64_t session_start_ms,
                  std::int64_t created_ms, std::int64_t expires_ms);

class CheckinStore {
 public:
  explicit CheckinStore(store::Database& db) : db_(db) {}

  // ---- pushes
  // Open check-ins never pushed, oldest first (at most `limit`).
  asio::awaitable<Result<std::vector<CheckinRow>>> unpushed(std::int64_t now_ms, int limit);
  asio::awaitable<Result<std::vector<AlertRow>>> unpushed_alerts(int limit);
  // Records the pushes (check-ins and alerts by id) as made at `at_ms`.
  asio::awaitable<Status> mark_pushed(std::vector<std::string> checkin_ids, std::vector<std::string> alert_ids,
                                      std::int64_t at_ms);
  // Open check-ins past their expiry become "expired"; how many.
  asio::awaitable<Result<int>> expire(std::int64_t now_ms);

  // ---- the client
  // Open (pending, not expired) check-ins of the client, newest first; `unacked_only`
  // keeps those whose push was not acknowledged (what a new socket is sent).
  asio::awaitable<Result<std::vector<CheckinRow>>> open_for(std::string client_id, std::int64_t now_ms,
                                                            bool unacked_only);
  // Acknowledges the push of the client's check-in; nullopt if `checkin_id` is not one
  // of the client's check-ins.
  asio::awaitable<Result<std::optional<CheckinRow>>> acknowledge(std::string client_id, std::string checkin_id,
                                                                 std::int64_t now_ms);
  // Records the answer once (the same answer again: replayed) and, under the practice's
  // policy, the alert it raises, in one transaction. kNotFound (checkin_id) unless the
  // client's; kFailedPrecondition when expired or withdrawn; kAlreadyExists for a
  // different second answer.
  asio::awaitable<Result<SubmitResult>> submit(std::string client_id, std::string checkin_id, CheckinRatings ratings,
                                               SealedComment comment, std::int64_t now_ms);
  asio::awaitable<Result<std::pair<bool, std::int64_t>>> preference(std::string user_id);  // enabled, updated
  // Off also withdraws the client's open check-ins.
  asio::awaitable<Status> set_preference(std::string user_id, bool enabled, std::int64_t now_ms);

  // ---- the therapist and the practice
  // Submitted check-ins of the therapist's clients (one client if `client_id` is set), newest first, at most 500.
  asio::awaitable<Result<std::vector<CheckinRow>>> submitted_for(std::string therapist_id, std::string client_id);
  asio::awaitable<Result<std::vector<AlertRow>>> alerts_for(std::string therapist_id);
  asio::awaitable<Result<PolicyOfCheckins>> policy(std::string practice_id);
  asio::awaitable<Status> set_policy(PolicyOfCheckins row);
  asio::awaitable<Result<std::vector<TherapistSummary>>> summary(std::string practice_id);
  // Deletes every check-in of the client in the practice, with its comment keys and
  // alerts; how many check-ins.
  asio::awaitable<Result<int>> erase_client(std::string practice_id, std::string client_id);

 private:
  store::Database& db_;
};

}  // namespace alliance::reminders
