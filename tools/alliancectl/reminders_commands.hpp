#pragma once
// alliancectl's appointment-reminder commands (`reminders ...`, `user set-time-zone`)
// through the SDK's client::Reminders, and the text they print. The printers are
// pure so the unit tests check exactly what a user reads.
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/client/reminders.hpp"
#include "command_context.hpp"

namespace alliance::ctl {

// The commands; run() dispatches to them.
Outcome reminders_list(Context& ctx);         // reminders list [--appointment ID]
Outcome reminders_ack(Context& ctx);          // reminders ack ID
Outcome reminders_policy_show(Context& ctx);  // reminders policy show
Outcome reminders_policy_set(
    Context& ctx);  // reminders policy set --offsets ... [--type ...] [--quiet ...] [--show-therapist ...]
Outcome reminders_preference(Context& ctx);  // reminders preference [on|off]
Outcome user_set_time_zone(Context& ctx);    // user set-time-zone [--user ID] ZONE

// "2026-12-07T14:00:00Z" -> "2026-12-07 14:00Z"; other text is returned as is ("" stays "").
std::string format_instant(std::string_view rfc3339);
// Minutes before the start, short: 30 -> "30m", 90 -> "1h30m", 1440 -> "24h", 2880 -> "2d".
std::string format_offset(int minutes);
// -300 -> "UTC-05:00", 330 -> "UTC+05:30", 0 -> "UTC".
std::string format_utc_offset(int minutes);
// When a reminder's appointment starts on the client's clock:
// "2026-12-07 09:00 America/New_York (UTC-05:00)".
std::string local_start_text(const client::ReminderDue& r);

// A reminder as `watch` shows it, two lines ending in "\n":
//   reminder R1: 2026-12-07 09:00 America/New_York (UTC-05:00); actions: confirm, cancel (cancel until ...)
//     <the reminder's text>
// Text from the server is made terminal-safe.
std::string reminder_due_text(const client::ReminderDue& r);

// `watch`'s part for reminders, apart from the socket: give it each text frame.
// A reminder.due is shown once per reminder id (reminder_due_text, or the frame as
// it came with --json) and every copy of it is answered with the ack frame: a
// repeat means the server has not recorded the acknowledgement yet, and
// acknowledging twice is harmless. A malformed reminder.due is reported on `err`
// (the field named), printed as it came and not acknowledged. The server's answers
// to the acks are reported on `err` (ack.error always, ack.ok without --json).
class ReminderWatch {
 public:
  struct Handled {
    bool shown = false;   // something was printed on `out` (counts towards --count)
    std::string reply;    // the text frame to send back (an ack), or ""
    bool answer = false;  // the server's answer to an ack (ack.ok or ack.error)
  };

  ReminderWatch(std::ostream& out, std::ostream& err, bool json);
  ReminderWatch(const ReminderWatch&) = delete;
  ReminderWatch& operator=(const ReminderWatch&) = delete;

  // nullopt when the frame is neither a reminder.due nor an ack answer: the caller shows it.
  std::optional<Handled> handle(std::string_view frame);
  // Only an answer to an ack, reported as handle() does; any other frame is left
  // alone (nullopt): once --count is reached nothing more is shown or acknowledged.
  std::optional<Handled> handle_answer(std::string_view frame);

 private:
  std::ostream& out_;
  std::ostream& err_;
  bool json_;
  client::ReminderInbox inbox_;
};

// `reminders list`: the caller's pending reminders as a table ("no pending reminders" if none).
void print_pending_reminders(std::ostream& out, const std::vector<client::ReminderDue>& reminders);
// `reminders list --appointment ID`: the appointment's start, then each reminder: how
// long before, when due, its state and since when, pushes, why cancelled or moved.
void print_appointment_reminders(std::ostream& out, std::string_view appointment_id,
                                 const std::vector<client::Reminder>& reminders);
void print_reminder_policy(std::ostream& out, const client::ReminderPolicy& policy);
void print_reminder_preference(std::ostream& out, const client::ReminderPreference& preference);

// `reminders policy set`: the policy to send, from the options given and, for
// those left out, `current` (true from policy_set_needs_current when one is).
// The options were checked by parse_args; an Error here names the option too.
bool policy_set_needs_current(const Invocation& inv);
Result<client::ReminderPolicy> policy_from_options(const Invocation& inv, const client::ReminderPolicy& current);

}  // namespace alliance::ctl
