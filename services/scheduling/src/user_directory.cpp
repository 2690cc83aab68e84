#include "user_directory.hpp"

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/identity/v1/identity.pb.h"
#include "alliance/net/rpc_client.hpp"

namespace alliance::scheduling {

namespace idpb = ::alliance::identity::v1;

asio::awaitable<Result<std::optional<UserFacts>>> IdentityDirectory::find_user(std::string user_id) {
  idpb::LookupUsersRequest req;
  req.add_user_ids(user_id);
  auto resp = co_await identity_.call<idpb::LookupUsersResponse>("alliance.identity.v1.Identity/LookupUsers", req);
  if (!resp) co_return make_error(Code::kUnavailable, "identity is not reachable; try again");
  for (const auto& u : resp->users()) {
    auto role = parse_role(u.role());
    if (u.id() != user_id || !role) continue;
    UserFacts facts{u.id(), u.practice_id(), *role, u.time_zone()};
    facts.deactivated = u.deactivated();
    for (const auto& p : resp->practices())
      if (p.id() == u.practice_id()) {
        facts.therapists_book_any_client = p.therapists_book_any_client();
        facts.practice_time_zone = p.time_zone();
      }
    co_return std::optional<UserFacts>(std::move(facts));
  }
  co_return std::optional<UserFacts>();
}

asio::awaitable<Result<bool>> IdentityDirectory::on_care_team(std::string client_id, std::string therapist_id) {
  idpb::CheckCareTeamRequest req;
  req.set_client_id(client_id);
  req.set_therapist_id(therapist_id);
  auto resp =
      co_await identity_.call<idpb::CheckCareTeamResponse>("alliance.identity.v1.Identity/CheckCareTeam", req);
  if (!resp) co_return make_error(Code::kUnavailable, "identity is not reachable; try again");
  co_return resp->member();
}

Error client_deactivated() {
  return Error{Code::kFailedPrecondition, "client_id: this client's account is deactivated", "client_id"};
}

void CachingUserDirectory::make_room() {
  if (users_.size() + links_.size() < options_.max_entries) return;
  users_.clear();
  links_.clear();
}

std::int64_t CachingUserDirectory::now() const { return options_.now_ms ? options_.now_ms() : now_unix_ms(); }

asio::awaitable<Result<std::optional<UserFacts>>> CachingUserDirectory::find_user(std::string user_id) {
  if (const auto* kept = users_.find(user_id, now())) {
    ++hits_;
    co_return std::optional<UserFacts>(*kept);
  }
  auto found = co_await inner_.find_user(user_id);
  if (found && *found) {
    make_room();
    users_.put(user_id, **found, now() + options_.ttl.count());
  }
  co_return found;
}

asio::awaitable<Result<bool>> CachingUserDirectory::on_care_team(std::string client_id, std::string therapist_id) {
  std::string key = client_id + '\n' + therapist_id;
  if (links_.find(key, now())) {
    ++hits_;
    co_return true;
  }
  auto member = co_await inner_.on_care_team(std::move(client_id), std::move(therapist_id));
  if (member && *member) {
    make_room();
    links_.put(std::move(key), true, now() + options_.ttl.count());
  }
  co_return member;
}

asio::awaitable<std::string> client_time_zone(UserDirectory& directory, std::string client_id) {
  auto facts = co_await directory.find_user(client_id);
  if (!facts) {
    log::warn("client time zone unknown: identity not reachable; showing the therapist's",
              {{"client_id", client_id}, {"reason", facts.error().message}});
    co_return std::string();
  }
  co_return *facts ? (*facts)->time_zone : std::string();
}

}  // namespace alliance::scheduling
