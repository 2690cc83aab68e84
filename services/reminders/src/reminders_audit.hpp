#pragma once
// What reminders tells the audit log: reads of reminder lists and changes to reminders,
// the reminder policy and a client's preference, through an observer on its RPC table
// (ids only; refusals too). Runs on the RPC server's executor, as the sender does.
#include "alliance/audit/audit_sender.hpp"
#include "alliance/net/rpc_methods.hpp"

namespace alliance::reminders {

net::CallObserver reminder_auditor(audit::AuditSender& sender);

}  // namespace alliance::reminders
