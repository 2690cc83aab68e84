#pragma once
// CallAuditor: the one way a service's RPC table tells the audit log what it did. A
// service declares which methods are audited (and as what action), and how to read the
// objects out of each response type it answers; the auditor turns every finished call
// into records for an AuditSender: one per object a response touched, about that
// object's client, or a refusal ("denied", "not_found") without an object. Calls
// without an end user (services calling as themselves, public feeds) are not recorded.
// Ids only: a reader emits ids, never text. Runs on the RPC server's executor, as the
// sender does.
//
//   constexpr audit::AuditedMethod kMethods[] = {{"GetAppointment", "appointment.read", "appointment"}};
//   audit::CallAuditor auditor(kMethods);
//   auditor.read<pb::AppointmentResponse>([](const pb::AppointmentResponse& r, const net::CallContext&,
//                                            const audit::Emit& emit) {
//     emit({.object_type = "appointment", .object_id = r.appointment().id(),
//           .subject_user_id = r.appointment().client_id()});
//   });
//   table.observe(auditor.observer(sender));
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "alliance/audit/audit_sender.hpp"
#include "alliance/net/rpc_methods.hpp"

namespace alliance::audit {

// An audited RPC method: its name in the table, the action it is recorded as, and the
// object type a refusal of it is recorded with.
struct AuditedMethod {
  std::string_view method;       // "GetAppointment"
  std::string_view action;       // "appointment.read"
  std::string_view object_type;  // "appointment"
};

// One object a response touched, and whose data it is (the client; "" if nobody's).
struct Touched {
  std::string_view object_type;
  std::string_view object_id;
  std::string_view subject_user_id;
};
using Emit = std::function<void(const Touched&)>;

class CallAuditor {
 public:
  // `methods` must outlive the auditor and its observers (a table with static storage).
  explicit CallAuditor(std::span<const AuditedMethod> methods) : methods_(methods) {}

  // How to read a `Resp` answer: `reader` emits each object it touched. A response
  // type without a reader records nothing on success (refusals are still recorded).
  template <class Resp, class Reader>
  CallAuditor& read(Reader reader) {
    readers_[Resp::descriptor()] = [reader = std::move(reader)](const google::protobuf::Message& m,
                                                                 const net::CallContext& ctx, const Emit& emit) {
      // The descriptor matched, so `m` is a Resp.
      reader(static_cast<const Resp&>(m), ctx, emit);
    };
    return *this;
  }

  // The observer for a MethodTable; `sender` must outlive the server.
  net::CallObserver observer(AuditSender& sender) const;

 private:
  using Reader = std::function<void(const google::protobuf::Message&, const net::CallContext&, const Emit&)>;

  std::span<const AuditedMethod> methods_;
  std::unordered_map<const google::protobuf::Descriptor*, Reader> readers_;
};

}  // namespace alliance::audit
