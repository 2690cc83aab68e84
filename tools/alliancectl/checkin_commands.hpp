#pragma once
// alliancectl's session check-in commands: a client's open check-ins and answering one,
// a therapist's scores and alerts, an admin's practice summary and check-in policy.
// Each prints a table (or the server's JSON with --json).
#include "command_context.hpp"

namespace alliance::ctl {

Outcome checkins_list(Context& ctx);        // check-ins
Outcome checkin_submit(Context& ctx);       // check-in submit --id ID --relationship N --goals N --approach N --overall N
Outcome checkin_scores(Context& ctx);       // check-in scores [--client ID]   (a therapist: their own clients)
Outcome checkin_alerts(Context& ctx);       // check-in alerts                 (a therapist)
Outcome checkin_summary(Context& ctx);      // check-in summary                (an admin, when the policy allows)
Outcome checkin_policy_set(Context& ctx);   // check-in policy set --below N --drop N --admin-summary yes|no

}  // namespace alliance::ctl
