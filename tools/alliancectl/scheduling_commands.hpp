#pragma once
// alliancectl's scheduling commands for the front desk and therapists: thin wrappers
// over the gateway's scheduling routes (and identity's client search), each printing
// a table or one line, or the server's JSON with --json. The printers are pure so the
// tests check exactly what a user reads.
#include <boost/json/value.hpp>
#include <string>

#include "command_context.hpp"

namespace alliance::ctl {

// The commands; run() dispatches to them.
Outcome types(Context& ctx);                  // types
Outcome availability(Context& ctx);           // availability --therapist ID
Outcome blocks_list(Context& ctx);            // blocks list --therapist ID [--from T] [--to T]
Outcome blocks_add(Context& ctx);             // blocks add --therapist ID --start T --end T [--weekly-until DATE|--weekly] [--reason R]
Outcome blocks_delete(Context& ctx);          // blocks delete --therapist ID --id BLOCK_ID
Outcome slots(Context& ctx);                  // slots --therapist ID --type ID --from T --to T
Outcome book(Context& ctx);                   // book --therapist ID --client ID --type ID --start T [--key K]
Outcome reschedule(Context& ctx);             // reschedule --id ID --start T
Outcome cancel(Context& ctx);                 // cancel --id ID --reason R
Outcome confirm(Context& ctx);                // confirm --id ID
Outcome no_show(Context& ctx);                // no-show --id ID
Outcome appointments(Context& ctx);           // appointments --date DATE [--days 1|7] [--therapist IDS] [--zone Z]
Outcome series(Context& ctx);                 // series --therapist --client --type --start --count N [--every 1|2] ...
Outcome waitlist(Context& ctx);               // waitlist [--therapist ID] [--client ID]
Outcome clients_search(Context& ctx);         // clients search --query Q [--limit N] [--cursor C]
Outcome calendar_feed_rotate(Context& ctx);   // calendar-feed rotate [--therapist ID]

// The command named `name` ("blocks add"), or nullptr if it is none of these.
using Command = Outcome (*)(Context&);
Command scheduling_command(std::string_view name);

// One appointment as a change prints it, "\n"-terminated:
// "<verb> <status> <local_start> <time_zone> <type_name>, therapist T, client C (id ID, version V)".
std::string appointment_line(std::string_view verb, const boost::json::value& appointment);

// The calendar view (GetCalendarResponse) as one table: each appointment and time
// block of each therapist, earliest first, wall-clock times in the view's zone.
std::string calendar_table(const boost::json::value& calendar);

}  // namespace alliance::ctl
