#pragma once
// A test suite whose tests share one System (with default options): started before the
// suite's first test, stopped after its last. Each test makes its own practice in it.
#include <gtest/gtest.h>

#include "system.hpp"

namespace alliance::testing {

class SharedSystem : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sys_ = new System(); }
  static void TearDownTestSuite() {
    delete sys_;
    sys_ = nullptr;
  }
  static inline System* sys_ = nullptr;
};

}  // namespace alliance::testing
