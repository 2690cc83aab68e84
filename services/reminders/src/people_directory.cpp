#include "people_directory.hpp"

#include <set>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/identity/v1/identity.pb.h"
#include "alliance/net/rpc_client.hpp"

namespace alliance::reminders {

namespace idpb = ::alliance::identity::v1;

asio::awaitable<Result<People>> IdentityPeople::lookup(std::vector<std::string> user_ids) {
  People out;
  for (std::size_t i = 0; i < user_ids.size(); i += 100) {
    idpb::LookupUsersRequest req;
    for (std::size_t j = i; j < user_ids.size() && j < i + 100; ++j) req.add_user_ids(user_ids[j]);
    auto resp = co_await identity_.call<idpb::LookupUsersResponse>("alliance.identity.v1.Identity/LookupUsers", req);
    if (!resp) co_return make_error(Code::kUnavailable, "identity is not reachable");
    for (const auto& u : resp->users())
      out.users[u.id()] = Person{u.id(), u.practice_id(), u.display_name(), u.time_zone()};
    for (const auto& p : resp->practices()) out.practice_names[p.id()] = p.name();
  }
  co_return out;
}

std::int64_t CachingPeople::now() const { return options_.now_ms ? options_.now_ms() : now_unix_ms(); }

asio::awaitable<Result<People>> CachingPeople::lookup(std::vector<std::string> user_ids) {
  People out;
  std::vector<std::string> missing;
  std::set<std::string, std::less<>> asked;
  const auto t = now();
  for (auto& id : user_ids) {
    if (!asked.insert(id).second) continue;
    const Person* kept = users_.find(id, t);
    const std::string* practice = kept ? practices_.find(kept->practice_id, t) : nullptr;
    if (kept && practice) {
      ++hits_;
      out.practice_names[kept->practice_id] = *practice;
      out.users[id] = *kept;
    } else {
      missing.push_back(std::move(id));
    }
  }
  if (missing.empty()) co_return out;
  auto fresh = co_await inner_.lookup(std::move(missing));
  if (!fresh) co_return out;  // identity down: what we keep is better than nothing
  if (users_.size() + practices_.size() + fresh->users.size() > options_.max_entries) {
    users_.clear();
    practices_.clear();
  }
  const auto expires = now() + options_.ttl.count();
  for (auto& [id, person] : fresh->users) {
    users_.put(id, person, expires);
    out.users[id] = std::move(person);
  }
  for (auto& [id, name] : fresh->practice_names) {
    practices_.put(id, name, expires);
    out.practice_names[id] = std::move(name);
  }
  co_return out;
}

}  // namespace alliance::reminders
