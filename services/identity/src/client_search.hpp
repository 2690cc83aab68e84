#pragma once
// Client search by name or email prefix, in memory: names and emails are sealed at
// rest, so the store decrypts a practice's clients and this filters and pages them.
// Pure functions; safe from any thread.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "identity_domain.hpp"

namespace alliance::identity {

// `utf8` with Unicode simple case folding applied to each code point (ICU's
// u_foldCase, default mappings): "Émilie" and "ÉMILIE" fold alike, as do "ß" and
// "ẞ". Bytes of malformed sequences are kept as they are.
std::string fold_case(std::string_view utf8);

// Where a client sorts: by folded display name, then id.
struct SearchPlace {
  std::string folded_name;
  std::string id;
};
SearchPlace search_place(const User& client);

// The clients that match search.prefix (case folded): their name starts with it, or a
// word of it does (after a space), or their email does; ordered by search_place(), only
// those after `after` (the cursor client's place), at most search.limit + 1 (one more
// tells there is a next page).
std::vector<User> search_page(std::vector<User> clients, const ClientSearch& search,
                              const std::optional<SearchPlace>& after);

}  // namespace alliance::identity
