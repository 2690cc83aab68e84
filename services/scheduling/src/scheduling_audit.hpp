#pragma once
// What scheduling tells the audit log: every appointment read or change through the
// RPC table (which appointment, whose, by whom, with what outcome), sent to identity
// by an AuditSender. Ids only: no reasons, notes or times.
#include "alliance/audit/audit_sender.hpp"
#include "alliance/net/rpc_methods.hpp"

namespace alliance::scheduling {

// The observer register_scheduling_rpc gives its table; `sender` must outlive the server.
net::CallObserver appointment_auditor(audit::AuditSender& sender);

}  // namespace alliance::scheduling
