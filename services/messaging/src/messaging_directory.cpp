#include "messaging_directory.hpp"

#include "alliance/net/rpc_client.hpp"

namespace alliance::messaging {

namespace idpb = ::alliance::identity::v1;

namespace {
Error identity_unavailable() { return make_error(Code::kUnavailable, "identity is not reachable; try again"); }
}  // namespace

asio::awaitable<Result<std::optional<UserFacts>>> IdentityMessagingDirectory::find_user(std::string user_id) {
  idpb::LookupUsersRequest req;
  req.add_user_ids(user_id);
  auto resp = co_await identity_.call<idpb::LookupUsersResponse>("alliance.identity.v1.Identity/LookupUsers", req);
  if (!resp) co_return identity_unavailable();
  for (const auto& u : resp->users())
    if (u.id() == user_id) co_return std::optional<UserFacts>(UserFacts{u.id(), u.practice_id(), u.role()});
  co_return std::optional<UserFacts>();
}

asio::awaitable<Result<bool>> IdentityMessagingDirectory::on_care_team(std::string client_id,
                                                                       std::string therapist_id) {
  idpb::CheckCareTeamRequest req;
  req.set_client_id(client_id);
  req.set_therapist_id(therapist_id);
  auto resp =
      co_await identity_.call<idpb::CheckCareTeamResponse>("alliance.identity.v1.Identity/CheckCareTeam", req);
  if (!resp) co_return identity_unavailable();
  co_return resp->member();
}

asio::awaitable<Result<ActiveDevices>> IdentityMessagingDirectory::active_devices(std::string practice_id,
                                                                                  std::vector<std::string> user_ids,
                                                                                  std::string session_id) {
  idpb::ListActiveDevicesRequest req;
  req.set_practice_id(practice_id);
  for (auto& u : user_ids) req.add_user_ids(std::move(u));
  req.set_session_id(session_id);
  auto resp = co_await identity_.call<idpb::ListActiveDevicesResponse>(
      "alliance.identity.v1.Identity/ListActiveDevices", req);
  if (!resp) co_return identity_unavailable();
  ActiveDevices out;
  out.devices.assign(std::make_move_iterator(resp->mutable_devices()->begin()),
                     std::make_move_iterator(resp->mutable_devices()->end()));
  if (resp->has_archive_key() && !resp->archive_key().agreement_public_key().empty())
    out.archive_key = resp->archive_key();
  out.session_device_id = resp->session_device_id();
  co_return out;
}

}  // namespace alliance::messaging
