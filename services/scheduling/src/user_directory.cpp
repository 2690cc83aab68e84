#include "user_directory.hpp"

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
    if (u.id() == user_id && role) co_return std::optional<UserFacts>(UserFacts{u.id(), u.practice_id(), *role});
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

}  // namespace alliance::scheduling
