// The wiping helper every file of libs/crypto uses: the bytes are zero afterwards, on
// every way out of a scope, and the size is kept.
#include "alliance/crypto/wipe.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace alliance::crypto {
namespace {

// Longer than any small-string buffer, so the bytes live on the heap like a key's.
const std::string kSecret = "a private key, a content key or a line of session text";

TEST(Wipe, ZeroesEveryByteAndKeepsTheSize) {
  std::string s = kSecret;
  wipe(s);
  EXPECT_EQ(s, std::string(kSecret.size(), '\0'));
  std::string empty;
  wipe(empty);
  EXPECT_TRUE(empty.empty());
}

TEST(Wipe, GuardWipesWhenTheScopeEnds) {
  std::string s = kSecret;
  { WipeOnExit guard(s); }
  EXPECT_EQ(s, std::string(kSecret.size(), '\0'));
}

TEST(Wipe, GuardWipesWhenAnExceptionLeavesTheScope) {
  std::string s = kSecret;
  try {
    WipeOnExit guard(s);
    throw std::runtime_error("failed half way");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(s, std::string(kSecret.size(), '\0'));
}

}  // namespace
}  // namespace alliance::crypto
