#include "reminders_rpc.hpp"

#include "alliance/net/rpc_methods.hpp"

namespace alliance::reminders {

void register_reminders_rpc(net::RpcServer& server, RemindersService& service,
                            std::set<std::string, std::less<>> user_peers, net::CallObserver audit) {
  using S = RemindersService;
  net::MethodTable<S> t(server, service, std::string(kMethodPrefix), std::move(user_peers));
  t.observe(std::move(audit));
  t.add("ListPendingReminders", &S::list_pending);
  t.add("DeliverPendingReminders", &S::deliver_pending);
  t.add("AckReminder", &S::ack);
  t.add("ListAppointmentReminders", &S::list_for_appointment);
  t.add("GetReminderPolicy", &S::get_policy);
  t.add("SetReminderPolicy", &S::set_policy);
  t.add("GetReminderPreference", &S::get_preference);
  t.add("SetReminderPreference", &S::set_preference);
}

}  // namespace alliance::reminders
