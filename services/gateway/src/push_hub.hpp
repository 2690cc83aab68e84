#pragma once
// Routes live pushes from Redis pub/sub to every socket the addressed user has
// open on this gateway, closes a revoked session's sockets, and caps how many
// sockets one session and one user may hold. Subscribes to a user's channel when
// their first socket arrives and unsubscribes after the last one leaves. Owned by
// the gateway's I/O thread; sockets are PushSinks so this logic is free of Beast.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alliance/core/result.hpp"
#include "alliance/core/string_hash.hpp"
#include "alliance/push/v1/push.pb.h"

namespace alliance::gateway {

inline constexpr std::string_view kRevocationChannel = "identity:revocations";
inline constexpr int kCloseSessionRevoked = 4401;  // also: the access token expired
inline constexpr int kCloseIdle = 4408;
inline constexpr int kCloseReplaced = 4409;  // a newer socket of the same session took its place

class PushSink {
 public:
  virtual ~PushSink() = default;
  // Queues one JSON text frame; the same string is shared by every socket of the user.
  virtual void deliver(std::shared_ptr<const std::string> json) = 0;
  virtual void close_with(int code, std::string reason) = 0;
};

// WebSockets one gateway holds at once (config ws_max_per_session, ws_max_per_user).
struct SocketLimits {
  std::size_t per_session = 5;
  std::size_t per_user = 20;
};

class PushHub {
 public:
  struct Hooks {
    std::function<void(const std::string& channel)> subscribe;
    std::function<void(const std::string& channel)> unsubscribe;
    // Called for each SessionRevoked seen on the revocation channel.
    std::function<void(const std::string& session_id, std::int64_t expires_unix_ms)> revoked;
  };
  explicit PushHub(Hooks hooks, SocketLimits limits = {});

  // Registers a socket that is about to be accepted. A session already holding
  // per_session sockets makes room by closing its oldest (kCloseReplaced): a phone
  // that changed networks reconnects before the server notices its old socket is
  // dead. A user already holding per_user sockets across their sessions is refused
  // (kResourceExhausted naming ws_max_per_user) and nothing is registered.
  // A socket given a `staff_practice` (a front desk's or admin's) also gets what is
  // published on that practice's staff channel (redis::staff_push_channel).
  Status add(const std::string& user_id, const std::string& session_id, PushSink* sink,
             std::string_view staff_practice = {});
  // Unregisters a socket; removing one that is not registered does nothing (a
  // socket leaves as soon as it starts closing, and again when it ends).
  void remove(const std::string& user_id, const std::string& session_id, PushSink* sink);

  // A Redis pub/sub message: a PushFrame on "push:user:<id>" or "push:staff:<practice>",
  // or a SessionRevoked.
  void on_message(std::string_view channel, std::string_view payload);
  // Closes every socket of the session (code 4401).
  void close_session(const std::string& session_id, std::string_view reason);

  std::size_t sockets() const { return sockets_; }
  std::size_t users() const { return by_user_.size(); }
  std::uint64_t delivered() const { return delivered_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Entry {
    std::string session_id;
    PushSink* sink;
  };
  // Renders the push in `payload` once and hands it to every sink in targets_.
  void deliver(std::string_view channel, std::string_view payload);
  // A buffer to render a push into: one no socket still holds, else a fresh one.
  std::shared_ptr<std::string> free_buffer();

  Hooks hooks_;
  SocketLimits limits_;
  // Searched by string_view: a message's channel names its user or practice without a copy.
  StringMap<std::vector<Entry>> by_user_;
  StringMap<std::vector<PushSink*>> by_session_;   // oldest first
  StringMap<std::vector<PushSink*>> by_practice_;  // staff sockets only
  std::unordered_map<PushSink*, std::string> staff_practice_of_;
  // The push path allocates nothing per message once these have grown: the frame is
  // parsed into frame_, rendered into a pooled buffer that every addressed socket
  // shares and that is reused once the last of them has written it, and the sinks are
  // listed in targets_ (a sink may leave its list while we deliver).
  push::v1::PushFrame frame_;
  std::vector<std::shared_ptr<std::string>> buffers_;
  std::size_t next_buffer_ = 0;
  std::vector<PushSink*> targets_;
  std::size_t sockets_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace alliance::gateway
