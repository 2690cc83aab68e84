#pragma once
// UserDirectory: the facts about users that only identity knows (practice, role,
// time zone, care team), behind an interface so the service can be tested without
// identity.
// IdentityDirectory asks identity over RPC (internal methods LookupUsers and
// CheckCareTeam); it lives on the executor of its RpcClient.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/expiring_map.hpp"
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
  std::string time_zone;  // the user's own IANA zone; "" = not set
  // Their practice's policy: a therapist may book any of its clients, not only the
  // clients whose care team they are on.
  bool therapists_book_any_client = false;
  bool deactivated = false;  // an admin deactivated the user: nothing new is booked for them
  std::string practice_time_zone;  // their practice's own IANA zone; "" = not set
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

// Keeps identity's positive answers for a while so a booking or a slot search does
// not cost identity a round trip each. Only positive answers are kept: identity
// never deletes a user or removes a care-team link, so a kept link cannot turn
// false; an unknown user or a missing link is asked again every time (it may appear
// any moment). An admin may change a user's role (never a client's or a therapist's
// on a care team), a time zone and the practice's booking policy, and deactivate or
// reactivate a user: answers and events show the change within the ttl (5 minutes by
// default), not at once. The caller's own role comes from their token,
// whose session the role change ended.
// Runs on the service's executor; not thread-safe.
class CachingUserDirectory final : public UserDirectory {
 public:
  struct Options {
    std::chrono::milliseconds ttl{std::chrono::minutes(5)};
    std::size_t max_entries = 100'000;     // past this the cache starts over
    std::function<std::int64_t()> now_ms;  // unset = the system clock
  };
  CachingUserDirectory(UserDirectory& inner, Options options) : inner_(inner), options_(std::move(options)) {}
  asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string user_id) override;
  asio::awaitable<Result<bool>> on_care_team(std::string client_id, std::string therapist_id) override;
  std::uint64_t hits() const { return hits_; }

 private:
  std::int64_t now() const;
  UserDirectory& inner_;
  Options options_;
  void make_room();
  ExpiringMap<UserFacts> users_;
  ExpiringMap<bool> links_;  // positive answers only
  std::uint64_t hits_ = 0;
};

// kFailedPrecondition on client_id: nothing new is booked (or waited for) for a client
// an admin deactivated; their appointments stay.
Error client_deactivated();

// The client's own zone as `directory` knows it, for ClientTimes: "" when the client
// has none, is unknown, or identity cannot be asked right now (logged), so the
// therapist's zone stands in rather than an answer or a change failing.
asio::awaitable<std::string> client_time_zone(UserDirectory& directory, std::string client_id);

}  // namespace alliance::scheduling
