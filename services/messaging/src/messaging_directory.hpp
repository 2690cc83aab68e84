#pragma once
// MessagingDirectory: what only identity knows and messaging needs: who a user is,
// the care team, and the active devices (with their public keys) a message must be
// wrapped for. IdentityMessagingDirectory asks identity over RPC (internal methods
// LookupUsers, CheckCareTeam, ListActiveDevices); it lives on its RpcClient's executor.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/expiring_map.hpp"
#include "alliance/core/result.hpp"
#include "alliance/identity/v1/identity.pb.h"

namespace alliance::net {
class RpcClient;
}

namespace alliance::messaging {

struct UserFacts {
  std::string id, practice_id, role;  // role: "client" | "therapist" | "front_desk" | "admin"
};

struct ActiveDevices {
  std::vector<alliance::identity::v1::Device> devices;  // of the users asked about
  std::optional<alliance::identity::v1::ArchiveKey> archive_key;
  std::string session_device_id;  // the asking session's device, "" if none
  std::vector<alliance::identity::v1::IdentityKey> identity_keys;  // of the users asked that have one
};
// An answer is shared, never copied: a cache hands every send the one it keeps
// (immutable; a change replaces the entry, and holders keep the answer they had).
using SharedDevices = std::shared_ptr<const ActiveDevices>;

class MessagingDirectory {
 public:
  virtual ~MessagingDirectory() = default;
  // nullopt if identity does not know the id; kUnavailable if identity cannot be asked.
  virtual asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string user_id) = 0;
  virtual asio::awaitable<Result<bool>> on_care_team(std::string client_id, std::string therapist_id) = 0;
  virtual asio::awaitable<Result<SharedDevices>> active_devices(std::string practice_id,
                                                                std::vector<std::string> user_ids,
                                                                std::string session_id) = 0;
  // active_devices as identity answers it now, for a check about to refuse: a
  // cache in between asks through and keeps the answer (here: no cache, the same).
  virtual asio::awaitable<Result<SharedDevices>> current_active_devices(std::string practice_id,
                                                                        std::vector<std::string> user_ids,
                                                                        std::string session_id) {
    co_return co_await active_devices(std::move(practice_id), std::move(user_ids), std::move(session_id));
  }
  // The users' active devices, then their inactive (revoked, logged-out, expired)
  // ones with revoked_unix_ms set, and the archive key; session_device_id is "".
  // For readers verifying old messages only: never a list to wrap or check a send against.
  virtual asio::awaitable<Result<SharedDevices>> devices_with_inactive(std::string practice_id,
                                                                       std::vector<std::string> user_ids) = 0;
};

class IdentityMessagingDirectory final : public MessagingDirectory {
 public:
  explicit IdentityMessagingDirectory(net::RpcClient& identity) : identity_(identity) {}
  asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string user_id) override;
  asio::awaitable<Result<bool>> on_care_team(std::string client_id, std::string therapist_id) override;
  asio::awaitable<Result<SharedDevices>> active_devices(std::string practice_id, std::vector<std::string> user_ids,
                                                        std::string session_id) override;
  asio::awaitable<Result<SharedDevices>> devices_with_inactive(std::string practice_id,
                                                               std::vector<std::string> user_ids) override;

 private:
  asio::awaitable<Result<SharedDevices>> list_devices(std::string practice_id, std::vector<std::string> user_ids,
                                                      std::string session_id, bool include_inactive);

  net::RpcClient& identity_;
};

// A cache in front of another directory, so a send does not cost identity a round
// trip. Identity announces every device registration and archive-key change on
// kDeviceChannel and every ended session on "identity:revocations"; main
// subscribes both to invalidate_all() (and calls it after a Redis reconnect, when
// announcements may have been missed). Entries also expire after `ttl`, which
// bounds staleness while Redis is down and covers sessions that simply expire.
// current_active_devices always asks through, so a send is never refused as
// stale on a kept list.
// Only positive care-team answers are cached (a link is never removed). Runs on
// the service's executor; not thread-safe.
class CachingDirectory final : public MessagingDirectory {
 public:
  struct Options {
    std::chrono::milliseconds ttl{std::chrono::seconds(30)};
    std::size_t max_entries = 100'000;  // past this the cache starts over
    std::function<std::int64_t()> now_ms;  // unset = the system clock
  };
  CachingDirectory(MessagingDirectory& inner, Options options);

  asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string user_id) override;
  asio::awaitable<Result<bool>> on_care_team(std::string client_id, std::string therapist_id) override;
  asio::awaitable<Result<SharedDevices>> active_devices(std::string practice_id, std::vector<std::string> user_ids,
                                                        std::string session_id) override;
  // Asks the inner directory and replaces active_devices' entry with its answer.
  asio::awaitable<Result<SharedDevices>> current_active_devices(std::string practice_id,
                                                                std::vector<std::string> user_ids,
                                                                std::string session_id) override;
  // Cached apart from active_devices (the key says which), so an answer holding
  // inactive devices is never served as a recipient list.
  asio::awaitable<Result<SharedDevices>> devices_with_inactive(std::string practice_id,
                                                               std::vector<std::string> user_ids) override;

  void invalidate_all();
  struct Stats {
    std::uint64_t hits = 0, misses = 0, invalidations = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  std::int64_t now() const;
  void make_room();
  asio::awaitable<Result<SharedDevices>> cached_devices(std::string practice_id, std::vector<std::string> user_ids,
                                                        std::string session_id, bool include_inactive,
                                                        bool ask_through);

  MessagingDirectory& inner_;
  Options options_;
  std::uint64_t generation_ = 0;  // bumped by invalidate_all: answers fetched before it are not kept
  ExpiringMap<UserFacts> users_;
  ExpiringMap<bool> care_team_;  // positive answers only
  ExpiringMap<SharedDevices> devices_;
  Stats stats_;
};

// Identity publishes on this channel whenever a device is registered or a
// practice's archive key changes (payload: informational only).
inline constexpr std::string_view kDeviceChannel = "identity:devices";

}  // namespace alliance::messaging
