#pragma once
// alliancectl's audit commands: `audit verify` checks an audit.db file offline
// (read-only open, the service may be running) against the audit signing key's
// public half; the report printer is pure so the unit tests check what a user reads.
#include <iosfwd>

#include "alliance/audit/chain.hpp"
#include "command_context.hpp"

namespace alliance::ctl {

Outcome audit_verify(Context& ctx);  // audit verify --database PATH --public-key FILE
Outcome access_log(Context& ctx);    // access-log: who read or changed the signed-in client's record

// "audit log intact: N records, M signed checkpoints, signed up to seq S" (and how many
// records after S no checkpoint covers yet), or
// "audit log BROKEN at seq S (CHECK): detail".
void print_verification(std::ostream& out, const audit::Verification& v);

}  // namespace alliance::ctl
