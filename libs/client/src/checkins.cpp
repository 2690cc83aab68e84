#include "alliance/client/checkins.hpp"

#include <boost/json.hpp>

namespace alliance::client {
namespace json = boost::json;

namespace {

crypto::MessageContext context_of(std::string_view checkin_id, std::string_view sender_device_id) {
  return crypto::MessageContext{std::string(kCheckinCommentContext), std::string(checkin_id),
                                std::string(sender_device_id)};
}

}  // namespace

Result<SealedCheckinComment> seal_checkin_comment(const Device& me, std::string_view checkin_id,
                                                  std::string_view comment,
                                                  const std::vector<PeerDevice>& therapist_devices) {
  std::vector<crypto::Recipient> recipients;
  for (const auto& d : therapist_devices) recipients.push_back(crypto::Recipient{d.id, d.agreement_public});
  auto sealed = crypto::seal_message(context_of(checkin_id, me.id), comment, me.keys.signing_private, recipients);
  if (!sealed) return std::move(sealed).error();
  return SealedCheckinComment{me.id, std::move(sealed->ciphertext), std::move(sealed->keys)};
}

Result<std::string> open_checkin_comment(const Device& me, std::string_view checkin_id,
                                         const SealedCheckinComment& comment, const PeerDevice& sender) {
  for (const auto& k : comment.keys) {
    if (k.device_id != me.id) continue;
    return crypto::open_message(context_of(checkin_id, comment.sender_device_id), comment.ciphertext, k.wrapped_key,
                                me.id, me.keys.agreement_private, sender.signing_public);
  }
  return Error{Code::kNotFound, "keys: the comment was not sealed for this device", "keys"};
}

Result<SealedCheckinComment> seal_checkin_comment(Messenger& client, std::string_view conversation_id,
                                                  std::string_view therapist_id, std::string_view checkin_id,
                                                  std::string_view comment) {
  auto list = client.recipients(conversation_id, true);
  if (!list) return std::move(list).error();
  std::vector<PeerDevice> devices;
  for (const auto& d : list->devices)
    if (d.user_id == therapist_id && d.revoked_unix_ms == 0) devices.push_back(d);
  if (devices.empty())
    return Error{Code::kFailedPrecondition, "recipients: the therapist has no verified device to seal for",
                 "recipients"};
  return seal_checkin_comment(client.device(), checkin_id, comment, devices);
}

Result<std::string> open_checkin_comment(Messenger& therapist, std::string_view conversation_id,
                                         std::string_view checkin_id, const SealedCheckinComment& comment) {
  auto list = therapist.recipients(conversation_id, true);
  if (!list) return std::move(list).error();
  for (const auto& d : list->devices)
    if (d.id == comment.sender_device_id) return open_checkin_comment(therapist.device(), checkin_id, comment, d);
  return Error{Code::kNotFound, "sender_device_id: not a verified device of this conversation", "sender_device_id"};
}

json::value checkin_comment_to_json(const SealedCheckinComment& c) {
  json::array keys;
  for (const auto& k : c.keys)
    keys.push_back(json::object{{"device_id", k.device_id}, {"wrapped_key", base64_encode(k.wrapped_key)}});
  return json::object{
      {"sender_device_id", c.sender_device_id}, {"ciphertext", base64_encode(c.ciphertext)}, {"keys", std::move(keys)}};
}

Result<SealedCheckinComment> checkin_comment_from_json(const json::value& v) {
  const auto* o = v.if_object();
  if (!o) return Error{Code::kInvalidArgument, "comment: expected an object", "comment"};
  SealedCheckinComment out;
  auto sender = json_field::string(*o, "sender_device_id");
  if (!sender) return std::move(sender).error();
  auto ciphertext = json_field::bytes(*o, "ciphertext");
  if (!ciphertext) return std::move(ciphertext).error();
  out.sender_device_id = std::move(*sender);
  out.ciphertext = std::move(*ciphertext);
  const auto* keys = json_field::find(*o, "keys");
  if (!keys || !keys->is_array()) return Error{Code::kInvalidArgument, "keys: expected an array", "keys"};
  for (const auto& k : keys->as_array()) {
    const auto* ko = k.if_object();
    if (!ko) return Error{Code::kInvalidArgument, "keys: expected objects", "keys"};
    auto id = json_field::string(*ko, "device_id");
    if (!id) return std::move(id).error();
    auto wrapped = json_field::bytes(*ko, "wrapped_key");
    if (!wrapped) return std::move(wrapped).error();
    out.keys.push_back(crypto::WrappedKey{std::move(*id), std::move(*wrapped)});
  }
  return out;
}

}  // namespace alliance::client
