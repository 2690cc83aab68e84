#pragma once
// MeCache: what GetMe answers (the user and their practice), kept per user in front of
// the store so a repeated GetMe costs no store round trip. An entry is used only while
// IdentityStore::writes() still has the value taken before the read that filled it: any
// write to identity.db since (a profile, role, name, practice policy, a deactivation,
// a sign-in) makes every entry stale, so an answer never predates a change whose write
// has returned. Owned by the service's executor (one thread): no lock.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "identity_domain.hpp"

namespace alliance::identity {

class MeCache {
 public:
  // Beyond this many users, the cache starts over (a full clear costs one read each).
  static constexpr std::size_t kMaxUsers = 10'000;

  // The entry for `user_id` if it was read at `writes` (the store's count now).
  const std::pair<User, Practice>* find(const std::string& user_id, std::uint64_t writes) const {
    const auto it = entries_.find(user_id);
    if (it == entries_.end() || it->second.writes != writes) return nullptr;
    return &it->second.me;
  }
  // Keeps what a read started at `writes` returned.
  void put(std::uint64_t writes, std::pair<User, Practice> me) {
    if (entries_.size() >= kMaxUsers) entries_.clear();
    auto id = me.first.id;
    entries_.insert_or_assign(std::move(id), Entry{writes, std::move(me)});
  }

 private:
  struct Entry {
    std::uint64_t writes = 0;
    std::pair<User, Practice> me;
  };
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace alliance::identity
