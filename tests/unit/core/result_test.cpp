#include <gtest/gtest.h>

#include "alliance/core/result.hpp"

namespace alliance {
namespace {

Result<int> half(int x) {
  if (x % 2) return invalid_argument("x", "must be even");
  return x / 2;
}

TEST(Result, CarriesValueOrErrorWithField) {
  auto ok = half(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_EQ(bad.error().field, "x");
  EXPECT_EQ(code_name(bad.error().code), "invalid_argument");
}

}  // namespace
}  // namespace alliance
