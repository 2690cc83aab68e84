#include "alliance/redis/push.hpp"

#include <utility>

namespace alliance::redis {

std::string push_channel(std::string_view user_id) {
  std::string channel(kPushChannelPrefix);
  channel += user_id;
  return channel;
}

std::string staff_push_channel(std::string_view practice_id) {
  std::string channel(kStaffPushChannelPrefix);
  channel += practice_id;
  return channel;
}

alliance::push::v1::PushFrame push_frame(std::string id, std::string_view type, std::int64_t sent_unix_ms) {
  alliance::push::v1::PushFrame frame;
  frame.set_id(std::move(id));
  frame.set_type(std::string(type));
  frame.set_sent_unix_ms(sent_unix_ms);
  return frame;
}

alliance::push::v1::PushFrame push_frame(std::string id, std::string_view type, std::int64_t sent_unix_ms,
                                         const google::protobuf::Message& body) {
  auto frame = push_frame(std::move(id), type, sent_unix_ms);
  frame.mutable_body()->PackFrom(body);
  return frame;
}

namespace {

asio::awaitable<Status> publish_frame(Client& client, std::string channel, const alliance::push::v1::PushFrame& frame) {
  std::string payload;
  if (!frame.SerializeToString(&payload)) co_return make_error(Code::kInternal, "push frame did not serialize");
  std::vector<std::string> args{"PUBLISH", std::move(channel), std::move(payload)};
  auto reply = co_await client.command(std::move(args));
  if (!reply) co_return std::move(reply).error();
  if (reply->is_error()) co_return make_error(Code::kInternal, "redis PUBLISH: " + reply->str);
  co_return Status{};
}

}  // namespace

asio::awaitable<Status> publish_push(Client& client, std::string_view user_id,
                                     const alliance::push::v1::PushFrame& frame) {
  if (user_id.empty()) co_return invalid_argument("user_id", "must not be empty");
  co_return co_await publish_frame(client, push_channel(user_id), frame);
}

asio::awaitable<Status> publish_staff_push(Client& client, std::string_view practice_id,
                                           const alliance::push::v1::PushFrame& frame) {
  if (practice_id.empty()) co_return invalid_argument("practice_id", "must not be empty");
  co_return co_await publish_frame(client, staff_push_channel(practice_id), frame);
}

}  // namespace alliance::redis
