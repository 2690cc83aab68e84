// Sealed fields and data keys against real SQLite files: what is sealed opens only in
// its own row and column under its own practice's key, the keys live wrapped in the
// file, the wrong KEK is refused, and rotation re-wraps keys without touching rows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <array>
#include <memory>
#include <string>

#include "alliance/core/ids.hpp"
#include "alliance/store/connection.hpp"
#include "alliance/store/database.hpp"
#include "alliance/store/query.hpp"
#include "alliance/store/sealed_fields.hpp"

namespace alliance::store {
namespace {

const std::string kKekA(32, 'A');
const std::string kKekB(32, 'B');

std::string keys_id_of(const std::string& kek) { return DataKeys(kek).kek_id(); }

class SealedFieldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("alliance-sealed-" + new_id());
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "t.db";
    auto c = open();
    c->exec(kDataKeysSchema);
    c->exec("CREATE TABLE notes(id TEXT PRIMARY KEY, practice_id TEXT NOT NULL, body BLOB, title BLOB)");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Connection> open(bool read_only = false) {
    return Connection::open(path_, {.read_only = read_only});
  }
  std::string file_bytes() const {
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(path_.string() + suffix, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

TEST_F(SealedFieldsTest, OpensOnlyInItsOwnRowAndColumn) {
  auto c = open();
  DataKeys keys(kKekA);
  const FieldCipher cipher = keys.cipher(*c, "p1");
  const std::string sealed = cipher.seal("notes", "body", "n1", "Émilie is anxious about Tuesday");
  EXPECT_EQ(cipher.open("notes", "body", "n1", sealed), "Émilie is anxious about Tuesday");
  EXPECT_THROW(cipher.open("notes", "body", "n2", sealed), StoreError);   // another row
  EXPECT_THROW(cipher.open("notes", "title", "n1", sealed), StoreError);  // another column
  EXPECT_THROW(cipher.open("other", "body", "n1", sealed), StoreError);   // another table
  std::string altered = sealed;
  altered[20] ^= 1;
  EXPECT_THROW(cipher.open("notes", "body", "n1", altered), StoreError);
  EXPECT_THROW(keys.cipher(*c, "p2").open("notes", "body", "n1", sealed), StoreError);  // another practice
  try {
    cipher.open("notes", "body", "n2", sealed);
  } catch (const StoreError& e) {
    EXPECT_EQ(to_error(e).code, Code::kInternal);
    EXPECT_NE(std::string(e.what()).find("notes.body of row n2"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("Tuesday"), std::string::npos);
  }
  EXPECT_EQ(cipher.seal_optional("notes", "body", "n1", ""), "");
  EXPECT_EQ(cipher.open_optional("notes", "body", "n1", ""), "");
}

TEST_F(SealedFieldsTest, LookupHashIsPerPracticeAndColumn) {
  auto c = open();
  DataKeys keys(kKekA);
  const auto p1 = keys.cipher(*c, "p1");
  const auto p2 = keys.cipher(*c, "p2");
  EXPECT_EQ(p1.lookup_hash("email", "ana@example.com"), keys.cipher(*c, "p1").lookup_hash("email", "ana@example.com"));
  EXPECT_NE(p1.lookup_hash("email", "ana@example.com"), p2.lookup_hash("email", "ana@example.com"));
  EXPECT_NE(p1.lookup_hash("email", "ana@example.com"), p1.lookup_hash("name", "ana@example.com"));
  EXPECT_EQ(p1.lookup_hash("email", "x").size(), 32u);
}

TEST_F(SealedFieldsTest, KeysPersistWrappedAndNothingIsInClear) {
  std::string sealed;
  {
    auto c = open();
    DataKeys keys(kKekA);
    sealed = keys.cipher(*c, "p1").seal("notes", "body", "n1", "panic attacks since May");
    execute(*c, "INSERT INTO notes(id, practice_id, body) VALUES('n1', 'p1', ?1)", Blob{sealed});
  }
  EXPECT_EQ(file_bytes().find("panic attacks"), std::string::npos);
  auto c = open(/*read_only=*/true);
  DataKeys again(kKekA);  // a restart: same KEK, fresh cache
  auto body = query_one(*c, "SELECT body FROM notes WHERE id = 'n1'", [](const Statement& s) { return s.column_blob(0); });
  ASSERT_TRUE(body);
  EXPECT_EQ(again.cipher(*c, "p1").open("notes", "body", "n1", *body), "panic attacks since May");
  // A reader never makes a key.
  EXPECT_THROW(again.cipher(*c, "p-unknown"), StoreError);
}

TEST_F(SealedFieldsTest, WrongKekIsRefusedByName) {
  {
    auto c = open();
    DataKeys keys(kKekA);
    keys.cipher(*c, "p1");
  }
  auto c = open();
  DataKeys wrong(kKekB);
  auto checked = wrong.rewrap_and_check(*c, 1, "kek_file");
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(checked.error().field, "kek_file");
  EXPECT_NE(checked.error().message.find(keys_id_of(kKekA)), std::string::npos) << checked.error().message;
  EXPECT_THROW(wrong.cipher(*c, "p1"), StoreError);
}

TEST_F(SealedFieldsTest, RotationRewrapsKeysWithoutTouchingRows) {
  std::string sealed;
  std::string wrapped_before;
  {
    auto c = open();
    DataKeys keys(kKekA);
    sealed = keys.cipher(*c, "p1").seal("notes", "body", "n1", "grief");
    execute(*c, "INSERT INTO notes(id, practice_id, body) VALUES('n1', 'p1', ?1)", Blob{sealed});
    wrapped_before = *query_one(*c, "SELECT wrapped FROM data_keys", [](const Statement& s) { return s.column_blob(0); });
  }
  {
    auto c = open();
    DataKeys rotating(kKekB, kKekA);
    c->exec("BEGIN IMMEDIATE");
    auto n = rotating.rewrap_and_check(*c, 5, "kek_file");
    c->exec("COMMIT");
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(*n, 1);
  }
  auto c = open();
  auto wrapped_after = *query_one(*c, "SELECT wrapped FROM data_keys", [](const Statement& s) { return s.column_blob(0); });
  EXPECT_NE(wrapped_after, wrapped_before);
  auto body = *query_one(*c, "SELECT body FROM notes", [](const Statement& s) { return s.column_blob(0); });
  EXPECT_EQ(body, sealed);  // the row itself was not rewritten
  DataKeys only_new(kKekB);
  auto again = only_new.rewrap_and_check(*c, 6, "kek_file");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(only_new.cipher(*c, "p1").open("notes", "body", "n1", body), "grief");
  DataKeys only_old(kKekA);
  EXPECT_FALSE(only_old.rewrap_and_check(*c, 7, "kek_file"));
}

TEST_F(SealedFieldsTest, MigrationStepAndOnOpenRunInTheOpen) {
  std::filesystem::remove(path_);
  auto keys = std::make_shared<DataKeys>(kKekA);
  DatabaseOptions o;
  o.path = path_;
  o.migrations = {Migration{1, "CREATE TABLE t(id TEXT PRIMARY KEY, practice_id TEXT, v BLOB);"
                                "INSERT INTO t VALUES('r1', 'p1', 'plain secret');"},
                  Migration{2, kDataKeysSchema}};
  o.after_migration = [keys](Connection& c, int version) {
    if (version != 2) return;
    auto rows = query_all(c, "SELECT id, practice_id, v FROM t", [](const Statement& s) {
      return std::array<std::string, 3>{s.column_text(0), s.column_text(1), s.column_text(2)};
    });
    for (const auto& r : rows)
      execute(c, "UPDATE t SET v = ?2 WHERE id = ?1", r[0], Blob{keys->cipher(c, r[1]).seal("t", "v", r[0], r[2])});
  };
  int opened = 0;
  o.on_open = [keys, &opened](Connection& c) -> Status {
    ++opened;
    auto n = keys->rewrap_and_check(c, 1);
    if (!n) return std::move(n).error();
    return {};
  };
  {
    auto db = Database::open(o);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ((*db)->schema_version(), 2);
  }
  EXPECT_EQ(opened, 1);
  EXPECT_EQ(file_bytes().find("plain secret"), std::string::npos);
  auto wrong = std::make_shared<DataKeys>(kKekB);
  o.on_open = [wrong](Connection& c) -> Status {
    auto n = wrong->rewrap_and_check(c, 1);
    if (!n) return std::move(n).error();
    return {};
  };
  auto refused = Database::open(o);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("kek_file"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace alliance::store
