#pragma once
// PeopleDirectory: what reminders needs to know about people that only identity
// knows: display names, each user's time zone and the practice's name. Behind an
// interface so the service can be tested without identity. IdentityPeople asks
// identity's LookupUsers as the reminders service itself (no end user asserted);
// CachingPeople keeps the answers for a while (a changed zone or name shows within
// that time). Both live on one executor; not thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/expiring_map.hpp"
#include "alliance/core/result.hpp"

namespace alliance::net {
class RpcClient;
}

namespace alliance::reminders {

struct Person {
  std::string id, practice_id, display_name;
  std::string time_zone;  // "" = not set
};

struct People {
  std::map<std::string, Person, std::less<>> users;               // by id; unknown ids are missing
  std::map<std::string, std::string, std::less<>> practice_names;  // practice id -> name
};

class PeopleDirectory {
 public:
  virtual ~PeopleDirectory() = default;
  // kUnavailable if identity cannot be asked.
  virtual asio::awaitable<Result<People>> lookup(std::vector<std::string> user_ids) = 0;
};

class IdentityPeople final : public PeopleDirectory {
 public:
  explicit IdentityPeople(net::RpcClient& identity) : identity_(identity) {}
  // Asks in chunks of 100 ids (identity's limit).
  asio::awaitable<Result<People>> lookup(std::vector<std::string> user_ids) override;

 private:
  net::RpcClient& identity_;
};

class CachingPeople final : public PeopleDirectory {
 public:
  struct Options {
    std::chrono::milliseconds ttl{std::chrono::minutes(5)};
    std::size_t max_entries = 200'000;     // past this the cache starts over
    std::function<std::int64_t()> now_ms;  // unset = the system clock
  };
  CachingPeople(PeopleDirectory& inner, Options options) : inner_(inner), options_(std::move(options)) {}
  // Answers what it keeps and asks `inner` only for the rest. If identity cannot be
  // asked, answers what it keeps (possibly nothing) rather than failing.
  asio::awaitable<Result<People>> lookup(std::vector<std::string> user_ids) override;
  std::uint64_t hits() const { return hits_; }

 private:
  std::int64_t now() const;
  PeopleDirectory& inner_;
  Options options_;
  ExpiringMap<Person> users_;
  ExpiringMap<std::string> practices_;
  std::uint64_t hits_ = 0;
};

}  // namespace alliance::reminders
