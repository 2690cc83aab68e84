#pragma once
// Row helpers identity's store files share (identity_store.cpp, two_factor_store.cpp).
// Each runs inside a job on the store's threads, with the connection it is given.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/store/connection.hpp"
#include "alliance/store/sealed_fields.hpp"
#include "identity_domain.hpp"

namespace alliance::identity {

std::optional<User> user_in(store::Connection& c, store::DataKeys& keys, const std::string& user_id);
std::optional<Practice> practice_in(store::Connection& c, store::DataKeys& keys, const std::string& practice_id);
// Revokes every live session of the user but `keep` ("" keeps none); answers their ids.
std::vector<std::string> end_sessions(store::Connection& c, const std::string& user_id, std::string_view reason,
                                      std::int64_t now, std::string_view keep = "");
// Removes the user's second factor (secret, recovery codes, open challenges) and
// records `change` ("disabled" or "reset") by `by_user_id`; false if there was none.
bool remove_two_factor(store::Connection& c, const std::string& user_id, std::string_view change,
                       const std::string& by_user_id, std::int64_t now);

}  // namespace alliance::identity
