#pragma once
// Routes live pushes from Redis pub/sub to every socket the addressed user has
// open on this gateway, and closes a revoked session's sockets. Subscribes to a
// user's channel when their first socket arrives and unsubscribes after the
// last one leaves. Owned by the gateway's I/O thread; sockets are PushSinks so
// this logic is free of Beast.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace alliance::gateway {

inline constexpr std::string_view kRevocationChannel = "identity:revocations";
inline constexpr int kCloseSessionRevoked = 4401;
inline constexpr int kCloseIdle = 4408;

class PushSink {
 public:
  virtual ~PushSink() = default;
  // Queues one JSON text frame; the same string is shared by every socket of the user.
  virtual void deliver(std::shared_ptr<const std::string> json) = 0;
  virtual void close_with(int code, std::string reason) = 0;
};

class PushHub {
 public:
  struct Hooks {
    std::function<void(const std::string& channel)> subscribe;
    std::function<void(const std::string& channel)> unsubscribe;
    // Called for each SessionRevoked seen on the revocation channel.
    std::function<void(const std::string& session_id, std::int64_t expires_unix_ms)> revoked;
  };
  explicit PushHub(Hooks hooks);

  void add(const std::string& user_id, const std::string& session_id, PushSink* sink);
  void remove(const std::string& user_id, const std::string& session_id, PushSink* sink);

  // A Redis pub/sub message: a PushFrame on "push:user:<id>" or a SessionRevoked.
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
  Hooks hooks_;
  std::unordered_map<std::string, std::vector<Entry>> by_user_;
  std::unordered_map<std::string, std::vector<PushSink*>> by_session_;
  std::size_t sockets_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace alliance::gateway
