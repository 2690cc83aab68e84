#pragma once
// What the check-in API tells the audit log: a therapist reading a client's check-ins
// or alerts (one record per check-in, about its client, so the client's access log shows
// who read them), answers, policy changes, summaries and refusals; observed on
// CheckinService's RPC table and shipped by an AuditSender. Ids only: never a score or
// a comment.
#include "alliance/audit/audit_sender.hpp"
#include "alliance/net/rpc_methods.hpp"

namespace alliance::reminders {

net::CallObserver checkin_auditor(audit::AuditSender& sender);

}  // namespace alliance::reminders
