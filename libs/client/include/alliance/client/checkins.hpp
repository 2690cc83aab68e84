#pragma once
// Session check-ins on a client's device: the comment a client adds to a check-in is
// sealed here for their therapist's devices (the server stores ciphertext it cannot
// open), and opened here on the therapist's device. The format is crypto::seal_message
// (format 1) under the context {conversation_id "checkin", message_id = the check-in's
// id, sender_device_id}: it binds the comment to its check-in and signs it by the
// client's device. Blocking where a Messenger is used; the rest are pure functions.
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "alliance/client/device.hpp"
#include "alliance/client/messenger.hpp"
#include "alliance/client/wire.hpp"
#include "alliance/core/result.hpp"
#include "alliance/crypto/message_seal.hpp"

namespace alliance::client {

inline constexpr std::string_view kCheckinDueType = "checkin.due";
inline constexpr std::string_view kCheckinAlertType = "checkin.alert";
inline constexpr std::string_view kCheckinCommentContext = "checkin";

struct SealedCheckinComment {
  std::string sender_device_id;
  std::string ciphertext;
  std::vector<crypto::WrappedKey> keys;  // one per therapist device
};

// Seals `comment` on device `me` for each of `therapist_devices` (public keys the
// caller has verified, e.g. from Messenger::recipients). kInvalidArgument naming the
// field as crypto::seal_message does ("recipients" when the list is empty).
Result<SealedCheckinComment> seal_checkin_comment(const Device& me, std::string_view checkin_id,
                                                  std::string_view comment,
                                                  const std::vector<PeerDevice>& therapist_devices);
// Opens a comment on the therapist's device `me`; `sender` is the client device's
// verified keys. kNotFound (field "keys") when it holds no key for `me`; any
// cryptographic failure is crypto::open_message's kInvalidArgument.
Result<std::string> open_checkin_comment(const Device& me, std::string_view checkin_id,
                                         const SealedCheckinComment& comment, const PeerDevice& sender);

// With the client's Messenger: seals for the therapist's devices among the verified
// recipients of their conversation (`conversation_id`, the client's with `therapist_id`).
Result<SealedCheckinComment> seal_checkin_comment(Messenger& client, std::string_view conversation_id,
                                                  std::string_view therapist_id, std::string_view checkin_id,
                                                  std::string_view comment);
// With the therapist's Messenger: opens with the sender's keys as verified in that conversation.
Result<std::string> open_checkin_comment(Messenger& therapist, std::string_view conversation_id,
                                         std::string_view checkin_id, const SealedCheckinComment& comment);

// alliance.reminders.v1.SealedComment as JSON (bytes as base64), and back; an Error names the field.
boost::json::value checkin_comment_to_json(const SealedCheckinComment& comment);
Result<SealedCheckinComment> checkin_comment_from_json(const boost::json::value& v);

}  // namespace alliance::client
