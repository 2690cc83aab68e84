// Identifiers from alliance/core/ids.hpp.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "alliance/core/ids.hpp"

namespace alliance {
namespace {

TEST(NewUniqueId, ThirtyTwoHexDigitsNeverRepeatedAcrossThreads) {
  std::vector<std::string> a, b;
  std::thread other([&] {
    for (int i = 0; i < 1000; ++i) b.push_back(new_unique_id());
  });
  for (int i = 0; i < 1000; ++i) a.push_back(new_unique_id());
  other.join();
  std::set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 2000u);
  for (const auto& id : all) {
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  }
}

}  // namespace
}  // namespace alliance
