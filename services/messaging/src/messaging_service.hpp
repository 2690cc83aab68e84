#pragma once
// MessagingService: messaging's RPC handlers as a plain class with no sockets.
// Each method takes the protobuf request and the call's context (the Caller the
// gateway established from a verified token) and returns a Result; the RPC layer
// (messaging_rpc.hpp) owns the wire. Runs on one I/O executor (its maps are not
// locked); SQLite work runs on the store's threads.
//
// Access: only the two participants of a conversation read, send or see receipts;
// front desk never; an admin may list conversations (metadata) and erase one. A
// conversation the caller may not see answers NOT_FOUND, as a missing one does.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "alliance/audit/audit_sender.hpp"
#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/messaging/v1/messaging.pb.h"
#include "alliance/net/rpc_server.hpp"
#include "domain/messaging_hours.hpp"
#include "messaging_directory.hpp"
#include "messaging_store.hpp"

namespace alliance::redis {
class Client;
}

namespace alliance::messaging {

namespace pb = ::alliance::messaging::v1;

struct MessagingOptions {
  int send_rate_per_minute = 120;           // per user; 0 = no limit
  // Format 1's ciphertext; format 2's padded content (its ciphertext adds the
  // nonce, signature and tag), so the largest bucket still fits.
  std::size_t max_ciphertext_bytes = 65536;
  std::function<std::int64_t()> now_ms;     // unset = the system clock
};

class MessagingService {
 public:
  // `store`, `directory` and `redis` (nullable: no pushes, no rate limit) must
  // outlive the service.
  MessagingService(asio::any_io_executor ex, MessagingStore& store, MessagingDirectory& directory,
                   redis::Client* redis, MessagingOptions options);

  using Ctx = net::CallContext;
  asio::awaitable<Result<pb::ConversationResponse>> open_conversation(const pb::OpenConversationRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListConversationsResponse>> list_conversations(const pb::ListConversationsRequest&,
                                                                            const Ctx&);
  asio::awaitable<Result<pb::ConversationResponse>> get_conversation(const pb::GetConversationRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListRecipientsResponse>> list_recipients(const pb::ListRecipientsRequest&, const Ctx&);
  asio::awaitable<Result<pb::SendMessageResponse>> send_message(const pb::SendMessageRequest&, const Ctx&);
  asio::awaitable<Result<pb::SyncMessagesResponse>> sync_messages(const pb::SyncMessagesRequest&, const Ctx&);
  asio::awaitable<Result<pb::ReceiptResponse>> ack_delivered(const pb::AckDeliveredRequest&, const Ctx&);
  asio::awaitable<Result<pb::ReceiptResponse>> mark_read(const pb::MarkReadRequest&, const Ctx&);
  asio::awaitable<Result<pb::ListReceiptsResponse>> list_receipts(const pb::ListReceiptsRequest&, const Ctx&);
  asio::awaitable<Result<pb::TypingResponse>> set_typing(const pb::TypingRequest&, const Ctx&);
  asio::awaitable<Result<pb::EraseConversationResponse>> erase_conversation(const pb::EraseConversationRequest&,
                                                                            const Ctx&);
  asio::awaitable<Result<pb::MessagingHoursResponse>> set_messaging_hours(const pb::SetMessagingHoursRequest&,
                                                                          const Ctx&);
  asio::awaitable<Result<pb::MessagingHoursResponse>> get_messaging_hours(const pb::GetMessagingHoursRequest&,
                                                                          const Ctx&);
  asio::awaitable<Result<pb::MessagingPolicyResponse>> set_messaging_policy(const pb::SetMessagingPolicyRequest&,
                                                                            const Ctx&);
  asio::awaitable<Result<pb::MessagingPolicyResponse>> get_messaging_policy(const pb::GetMessagingPolicyRequest&,
                                                                            const Ctx&);
  asio::awaitable<Result<pb::ListErasuresResponse>> list_erasures(const pb::ListErasuresRequest&, const Ctx&);

  // Where audit records go (nullable: none are sent); must outlive the service. Records
  // hold ids only: who, which conversation, whose (its client), the outcome.
  void set_audit(audit::AuditSender* sender) { audit_ = sender; }

  // One retention pass over every practice with a retention period: deletes the
  // content of messages older than it. Returns how many messages it expired.
  asio::awaitable<Result<std::int64_t>> sweep_retention();

 private:
  std::int64_t now_ms() const;
  // The conversation if the caller is one of its two participants, else NOT_FOUND
  // (recorded in the audit log as a refusal of `action`).
  asio::awaitable<Result<ConversationRow>> participant_conversation(const std::string& id, const Ctx& ctx,
                                                                    std::string_view action);
  // An audit record of `action` by the caller on conversation `c`, whose client's data it is.
  void audit_conversation(const Ctx& ctx, std::string_view action, const ConversationRow& c);
  // An audit record of `action` by the caller on `object_id` of `object_type`.
  void audit_event(const Ctx& ctx, audit::AuditSender::Event e);
  // Records a refused `action` (denied or hidden) and hands the error back.
  Error audit_refusal(const Ctx& ctx, std::string_view action, std::string_view object_type,
                      std::string_view object_id, Error e);
  asio::awaitable<Result<std::optional<WeeklyHours>>> hours_of(const std::string& therapist_id);
  asio::awaitable<Result<PolicyRow>> policy_of(const std::string& practice_id);
  asio::awaitable<Status> check_send_rate(const std::string& user_id);
  // The stored message if this is a retry of it (same id, same content); kAlreadyExists
  // if the id was used for other content; nullopt if the id is new.
  asio::awaitable<Result<std::optional<pb::SendMessageResponse>>> answer_retry(const std::string& conversation_id,
                                                                               const std::string& message_id,
                                                                               const std::string& hash,
                                                                               const std::string& user_id);
  // Fire-and-forget wake-ups: durable state is already committed.
  struct Push {
    std::string user_id;
    std::string_view type;
    std::string_view body_type;  // the body's full proto name
    std::string body;            // the body, serialized
  };
  void push(std::string user_id, std::string_view type, const google::protobuf::Message& body);
  void push_all(std::vector<Push> pushes);

  asio::any_io_executor ex_;  // runs the push tasks
  MessagingStore& store_;
  MessagingDirectory& directory_;
  redis::Client* redis_;
  MessagingOptions options_;
  std::map<std::string, ConversationRow, std::less<>> conversations_;  // participants never change
  std::map<std::string, std::optional<WeeklyHours>, std::less<>> hours_;
  std::map<std::string, PolicyRow, std::less<>> policies_;
  audit::AuditSender* audit_ = nullptr;
};

}  // namespace alliance::messaging
