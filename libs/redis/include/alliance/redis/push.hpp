#pragma once
// The live push path: a service publishes a PushFrame on the user's channel; every
// gateway subscribed to it forwards the frame to that user's sockets. At-most-once:
// the pushed content must also be durable in the owning service.
#include <cstdint>
#include <string>
#include <string_view>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/client.hpp"

namespace alliance::redis {

inline constexpr std::string_view kPushChannelPrefix = "push:user:";
inline constexpr std::string_view kStaffPushChannelPrefix = "push:staff:";

// "push:user:<user_id>"
std::string push_channel(std::string_view user_id);
// "push:staff:<practice_id>": what the practice's front desk and admins see live on
// their sockets (appointment changes, never message content).
std::string staff_push_channel(std::string_view practice_id);

// The frame every live push travels in: id (clients de-duplicate by it), type (e.g.
// "reminder.due"), the sender's clock in Unix ms, and the body packed as an Any.
alliance::push::v1::PushFrame push_frame(std::string id, std::string_view type, std::int64_t sent_unix_ms,
                                         const google::protobuf::Message& body);
// The same without a body, for a frame whose type says all (e.g. "session.ready").
alliance::push::v1::PushFrame push_frame(std::string id, std::string_view type, std::int64_t sent_unix_ms);

// PUBLISH push_channel(user_id) <frame serialized as protobuf bytes>. Success does not
// mean anyone was listening.
asio::awaitable<Status> publish_push(Client& client, std::string_view user_id,
                                     const alliance::push::v1::PushFrame& frame);
// PUBLISH staff_push_channel(practice_id) <frame>: a wake-up for the practice's staff
// screens, so it carries ids and times only.
asio::awaitable<Status> publish_staff_push(Client& client, std::string_view practice_id,
                                           const alliance::push::v1::PushFrame& frame);

}  // namespace alliance::redis
