#include "alliance/audit/call_auditor.hpp"

namespace alliance::audit {

net::CallObserver CallAuditor::observer(AuditSender& sender) const {
  auto readers = std::make_shared<const decltype(readers_)>(readers_);
  return [&sender, methods = methods_, readers](std::string_view method, const net::CallContext& ctx,
                                                const google::protobuf::Message* response, const Error* error) {
    const AuditedMethod* audited = nullptr;
    for (const auto& m : methods)
      if (m.method == method) audited = &m;
    if (!audited || ctx.caller.user_id().empty()) return;
    if (error) return sender.record_refusal(ctx, {.action = audited->action, .object_type = audited->object_type}, *error);
    const auto reader = readers->find(response->GetDescriptor());
    if (reader == readers->end()) return;
    const Emit emit = [&](const Touched& t) {
      sender.record(ctx, {.action = audited->action, .object_type = t.object_type, .object_id = t.object_id,
                          .subject_user_id = t.subject_user_id});
    };
    reader->second(*response, ctx, emit);
  };
}

}  // namespace alliance::audit
