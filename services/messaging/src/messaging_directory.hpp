#pragma once
// MessagingDirectory: what only identity knows and messaging needs: who a user is,
// the care team, and the active devices (with their public keys) a message must be
// wrapped for. IdentityMessagingDirectory asks identity over RPC (internal methods
// LookupUsers, CheckCareTeam, ListActiveDevices); it lives on its RpcClient's executor.
#include <optional>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
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
};

class MessagingDirectory {
 public:
  virtual ~MessagingDirectory() = default;
  // nullopt if identity does not know the id; kUnavailable if identity cannot be asked.
  virtual asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string user_id) = 0;
  virtual asio::awaitable<Result<bool>> on_care_team(std::string client_id, std::string therapist_id) = 0;
  virtual asio::awaitable<Result<ActiveDevices>> active_devices(std::string practice_id,
                                                                std::vector<std::string> user_ids,
                                                                std::string session_id) = 0;
};

class IdentityMessagingDirectory final : public MessagingDirectory {
 public:
  explicit IdentityMessagingDirectory(net::RpcClient& identity) : identity_(identity) {}
  asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string user_id) override;
  asio::awaitable<Result<bool>> on_care_team(std::string client_id, std::string therapist_id) override;
  asio::awaitable<Result<ActiveDevices>> active_devices(std::string practice_id, std::vector<std::string> user_ids,
                                                        std::string session_id) override;

 private:
  net::RpcClient& identity_;
};

}  // namespace alliance::messaging
