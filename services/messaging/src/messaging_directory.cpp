#include "messaging_directory.hpp"

#include "alliance/core/ids.hpp"
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

asio::awaitable<Result<SharedDevices>> IdentityMessagingDirectory::active_devices(std::string practice_id,
                                                                                  std::vector<std::string> user_ids,
                                                                                  std::string session_id) {
  co_return co_await list_devices(std::move(practice_id), std::move(user_ids), std::move(session_id), false);
}

asio::awaitable<Result<SharedDevices>> IdentityMessagingDirectory::devices_with_inactive(
    std::string practice_id, std::vector<std::string> user_ids) {
  co_return co_await list_devices(std::move(practice_id), std::move(user_ids), "", true);
}

asio::awaitable<Result<SharedDevices>> IdentityMessagingDirectory::list_devices(std::string practice_id,
                                                                                std::vector<std::string> user_ids,
                                                                                std::string session_id,
                                                                                bool include_inactive) {
  idpb::ListActiveDevicesRequest req;
  req.set_practice_id(practice_id);
  for (auto& u : user_ids) req.add_user_ids(std::move(u));
  req.set_session_id(session_id);
  req.set_include_inactive(include_inactive);
  auto resp = co_await identity_.call<idpb::ListActiveDevicesResponse>(
      "alliance.identity.v1.Identity/ListActiveDevices", req);
  if (!resp) co_return identity_unavailable();
  ActiveDevices out;
  out.devices.assign(std::make_move_iterator(resp->mutable_devices()->begin()),
                     std::make_move_iterator(resp->mutable_devices()->end()));
  if (resp->has_archive_key() && !resp->archive_key().agreement_public_key().empty())
    out.archive_key = resp->archive_key();
  out.session_device_id = resp->session_device_id();
  out.identity_keys.assign(std::make_move_iterator(resp->mutable_identity_keys()->begin()),
                           std::make_move_iterator(resp->mutable_identity_keys()->end()));
  co_return std::make_shared<const ActiveDevices>(std::move(out));
}

// ------------------------------------------------------------------ cache

CachingDirectory::CachingDirectory(MessagingDirectory& inner, Options options)
    : inner_(inner), options_(std::move(options)) {}

std::int64_t CachingDirectory::now() const { return options_.now_ms ? options_.now_ms() : now_unix_ms(); }

void CachingDirectory::invalidate_all() {
  ++generation_;
  ++stats_.invalidations;
  users_.clear();
  care_team_.clear();
  devices_.clear();
}

void CachingDirectory::make_room() {
  if (users_.size() + care_team_.size() + devices_.size() < options_.max_entries) return;
  users_.clear();
  care_team_.clear();
  devices_.clear();
}

asio::awaitable<Result<std::optional<UserFacts>>> CachingDirectory::find_user(std::string user_id) {
  if (const auto* kept = users_.find(user_id, now())) {
    ++stats_.hits;
    co_return std::optional<UserFacts>(*kept);
  }
  ++stats_.misses;
  const auto generation = generation_;
  auto found = co_await inner_.find_user(user_id);
  if (found && *found && generation == generation_) {
    make_room();
    users_.put(user_id, **found, now() + options_.ttl.count());
  }
  co_return found;
}

asio::awaitable<Result<bool>> CachingDirectory::on_care_team(std::string client_id, std::string therapist_id) {
  std::string key = client_id + '\n' + therapist_id;
  if (care_team_.find(key, now())) {
    ++stats_.hits;
    co_return true;
  }
  ++stats_.misses;
  const auto generation = generation_;
  auto member = co_await inner_.on_care_team(std::move(client_id), std::move(therapist_id));
  if (member && *member && generation == generation_) {
    make_room();
    care_team_.put(std::move(key), true, now() + options_.ttl.count());
  }
  co_return member;
}

asio::awaitable<Result<SharedDevices>> CachingDirectory::active_devices(std::string practice_id,
                                                                        std::vector<std::string> user_ids,
                                                                        std::string session_id) {
  co_return co_await cached_devices(std::move(practice_id), std::move(user_ids), std::move(session_id), false,
                                    false);
}

asio::awaitable<Result<SharedDevices>> CachingDirectory::current_active_devices(std::string practice_id,
                                                                                std::vector<std::string> user_ids,
                                                                                std::string session_id) {
  co_return co_await cached_devices(std::move(practice_id), std::move(user_ids), std::move(session_id), false, true);
}

asio::awaitable<Result<SharedDevices>> CachingDirectory::devices_with_inactive(std::string practice_id,
                                                                               std::vector<std::string> user_ids) {
  co_return co_await cached_devices(std::move(practice_id), std::move(user_ids), "", true, false);
}

asio::awaitable<Result<SharedDevices>> CachingDirectory::cached_devices(std::string practice_id,
                                                                        std::vector<std::string> user_ids,
                                                                        std::string session_id,
                                                                        bool include_inactive, bool ask_through) {
  // Which kind of list comes first, so the two kinds can never share an entry.
  std::string key = std::string(include_inactive ? "all" : "active") + '\n' + practice_id + '\n' + session_id;
  for (const auto& u : user_ids) key += '\n' + u;
  if (const auto* kept = ask_through ? nullptr : devices_.find(key, now())) {
    ++stats_.hits;
    co_return *kept;
  }
  ++stats_.misses;
  const auto generation = generation_;
  Result<SharedDevices> devices = SharedDevices{};
  if (include_inactive) {
    devices = co_await inner_.devices_with_inactive(std::move(practice_id), std::move(user_ids));
  } else {
    devices = co_await inner_.active_devices(std::move(practice_id), std::move(user_ids), std::move(session_id));
  }
  // An invalidation while the call was out means the answer may predate the change.
  if (devices && generation == generation_) {
    make_room();
    devices_.put(std::move(key), *devices, now() + options_.ttl.count());
  }
  co_return devices;
}

}  // namespace alliance::messaging
