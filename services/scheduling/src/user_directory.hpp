#pragma once
// UserDirectory: the facts about users that only identity knows (practice, role,
// care team), behind an interface so the service can be tested without identity.
// IdentityDirectory asks identity over RPC (internal methods LookupUsers and
// CheckCareTeam); it lives on the executor of its RpcClient.
#include <optional>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "scheduling_model.hpp"

namespace alliance::net {
class RpcClient;
}

namespace alliance::scheduling {

struct UserFacts {
  std::string id;
  std::string practice_id;
  Role role = Role::kClient;
};

class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  // The user, or nullopt if identity does not know the id. kUnavailable if identity
  // cannot be asked.
  virtual asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string user_id) = 0;
  // Whether the client has the therapist on their care team.
  virtual asio::awaitable<Result<bool>> on_care_team(std::string client_id, std::string therapist_id) = 0;
};

class IdentityDirectory final : public UserDirectory {
 public:
  // `identity` must outlive this object; calls run on its executor.
  explicit IdentityDirectory(net::RpcClient& identity) : identity_(identity) {}
  asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string user_id) override;
  asio::awaitable<Result<bool>> on_care_team(std::string client_id, std::string therapist_id) override;

 private:
  net::RpcClient& identity_;
};

}  // namespace alliance::scheduling
