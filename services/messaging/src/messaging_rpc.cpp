#include "messaging_rpc.hpp"

#include "alliance/net/rpc_methods.hpp"

namespace alliance::messaging {

void register_messaging_rpc(net::RpcServer& server, MessagingService& service,
                            std::set<std::string, std::less<>> allowed_peers) {
  using S = MessagingService;
  net::MethodTable<S> t(server, service, "alliance.messaging.v1.Messaging/", std::move(allowed_peers));
  t.add("OpenConversation", &S::open_conversation);
  t.add("ListConversations", &S::list_conversations);
  t.add("GetConversation", &S::get_conversation);
  t.add("ListRecipients", &S::list_recipients);
  t.add("SendMessage", &S::send_message);
  t.add("SyncMessages", &S::sync_messages);
  t.add("AckDelivered", &S::ack_delivered);
  t.add("MarkRead", &S::mark_read);
  t.add("ListReceipts", &S::list_receipts);
  t.add("SetTyping", &S::set_typing);
  t.add("EraseConversation", &S::erase_conversation);
  t.add("SetMessagingHours", &S::set_messaging_hours);
  t.add("GetMessagingHours", &S::get_messaging_hours);
  t.add("SetMessagingPolicy", &S::set_messaging_policy);
  t.add("GetMessagingPolicy", &S::get_messaging_policy);
  t.add("ListErasures", &S::list_erasures);
}

}  // namespace alliance::messaging
