#include "audit_commands.hpp"

#include <fstream>
#include <ostream>
#include <sstream>

#include "alliance/audit/audit_file.hpp"
#include "table.hpp"

namespace alliance::ctl {
namespace {

// The key file identity writes beside its audit signing key: 64 hex characters.
Result<std::string> read_public_key(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(Code::kNotFound, "public-key: cannot read \"" + path + "\"");
  std::string hex;
  in >> hex;
  std::string raw;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() != 2 * audit::kHashSize)
    return invalid_argument("public-key", "public-key: \"" + path + "\" must hold 64 hex characters");
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0)
      return invalid_argument("public-key", "public-key: \"" + path + "\" must hold 64 hex characters");
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  return raw;
}

}  // namespace

void print_verification(std::ostream& out, const audit::Verification& v) {
  if (!v.ok) {
    out << "audit log BROKEN at seq " << v.broken_seq.value_or(0) << " (" << v.check << "): " << v.detail << "\n";
    return;
  }
  out << "audit log intact: " << v.records << " records, " << v.checkpoints << " signed checkpoints, signed up to seq "
      << v.last_signed_seq << "\n";
  if (v.pruned_through > 0)
    out << "  records 1.." << v.pruned_through << " were pruned (archived); checked from the signed checkpoint at seq "
        << v.pruned_through << " and the prune's own record\n";
  const auto newest = v.pruned_through + v.records;
  if (newest > v.last_signed_seq)
    out << "  " << (newest - v.last_signed_seq)
        << " newest records are not covered by a checkpoint yet (chained, not signed)\n";
}

Outcome audit_verify(Context& ctx) {
  auto key = read_public_key(ctx.inv.options.at("public-key"));
  if (!key) return failed(key.error());
  auto file = audit::read_audit_file(ctx.inv.options.at("database"));
  if (!file) return failed(file.error());
  const auto v = audit::verify_chain(file->records, file->checkpoints, *key);
  print_verification(ctx.out, v);
  if (!v.ok) return Outcome{kFailed, std::nullopt};
  return {};
}

Outcome access_log(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  return show_list(ctx, (*c)->get_json("/v1/me/access-log?limit=200"), "entries",
                   "nobody else has accessed your record",
                   Table({{"AT", 21}, {"WHO", 30}, {"ROLE", 11}, {"ACTION", 24}, {"OUTCOME", 0}}),
                   [](const boost::json::value& e) -> std::vector<std::string> {
                     return {str(e, "at"), str(e, "actor_name").empty() ? "-" : str(e, "actor_name"),
                             str(e, "actor_role"), str(e, "action"), str(e, "outcome")};
                   });
}

}  // namespace alliance::ctl
