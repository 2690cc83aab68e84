#pragma once
// What scheduling tells the audit log: every read or change of appointments, series,
// waitlist entries and offers, the calendar view and staff notes through the RPC tables
// (which object, whose, by whom, with what outcome), sent to identity by an
// AuditSender. Ids only: no reasons, notes or times.
#include "alliance/audit/audit_sender.hpp"
#include "alliance/net/rpc_methods.hpp"

namespace alliance::scheduling {

// The observer the register_*_rpc functions give their tables; `sender` must outlive the server.
net::CallObserver scheduling_auditor(audit::AuditSender& sender);

}  // namespace alliance::scheduling
