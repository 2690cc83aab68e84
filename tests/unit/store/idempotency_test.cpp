// Idempotency keys over a real SQLite file: what a key made is recalled for the same
// request, refused for another, kept per scope, and nothing is kept for unkeyed writes.
#include <gtest/gtest.h>

#include <filesystem>

#include "alliance/core/ids.hpp"
#include "alliance/store/idempotency.hpp"
#include "alliance/store/query.hpp"

namespace alliance::store {
namespace {

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("alliance-idem-" + new_id() + ".db");
    c_ = Connection::open(path_, {});
    c_->exec(kIdempotentWritesSchema);
  }
  void TearDown() override {
    c_.reset();
    std::error_code ec;
    for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix, ec);
  }
  std::int64_t rows() {
    return *query_one(*c_, "SELECT count(*) FROM idempotent_writes", [](Statement& s) { return s.column_int(0); });
  }

  std::filesystem::path path_;
  std::unique_ptr<Connection> c_;
};

TEST_F(IdempotencyTest, TheSameRequestRecallsWhatTheKeyMadeAndAnotherIsRefused) {
  IdempotentWrite write{"user-1", "key-00000001", digest_request("create", "request bytes")};
  auto fresh = recall(*c_, write);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->has_value());
  remember(*c_, write, "made-1", 1000);

  auto again = recall(*c_, write);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ(**again, "made-1");

  IdempotentWrite other = write;
  other.request_hash = digest_request("create", "other bytes");
  auto refused = recall(*c_, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kAlreadyExists);
  EXPECT_EQ(refused.error().field, "idempotency_key");

  // The kind is part of what the key is bound to.
  other.request_hash = digest_request("erase", "request bytes");
  EXPECT_FALSE(recall(*c_, other).ok());

  // Another caller's same key is theirs.
  IdempotentWrite theirs = write;
  theirs.scope = "user-2";
  auto new_for_them = recall(*c_, theirs);
  ASSERT_TRUE(new_for_them.ok());
  EXPECT_FALSE(new_for_them->has_value());
}

TEST_F(IdempotencyTest, UnkeyedWritesKeepNothing) {
  IdempotentWrite unkeyed{"user-1", "", digest_request("create", "bytes")};
  remember(*c_, unkeyed, "made-1", 1000);
  EXPECT_EQ(rows(), 0);
  auto r = recall(*c_, unkeyed);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST_F(IdempotencyTest, KeysAre8To128PrintableCharactersWithoutSpaces) {
  EXPECT_TRUE(validate_idempotency_key("abcdefgh").ok());
  EXPECT_TRUE(validate_idempotency_key(std::string(128, '~')).ok());
  EXPECT_TRUE(validate_idempotency_key("", true).ok());
  for (std::string bad : {std::string(""), std::string("abcdefg"), std::string(129, 'a'), std::string("abcd efgh"),
                          std::string("abcd\x7f" "efgh"), std::string("abcd\xc3\xa9" "efgh")}) {
    auto s = validate_idempotency_key(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().field, "idempotency_key");
  }
}

}  // namespace
}  // namespace alliance::store
