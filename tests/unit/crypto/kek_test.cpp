// Loading the key-encryption key from a file and from a command, and every way that
// is refused at start-up.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/kek.hpp"

namespace alliance::crypto {
namespace {

const std::string kHexKey = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

class KekTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("alliance-kek-" + new_id());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& name, const std::string& text, mode_t mode) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    ::chmod(p.c_str(), mode);
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(KekTest, FileOfHexDigitsWithNewline) {
  KekSource s;
  s.file = write("kek", kHexKey + "\n", 0600);
  auto kek = load_kek(s);
  ASSERT_TRUE(kek) << kek.error().message;
  ASSERT_EQ(kek->size(), 32u);
  EXPECT_EQ(to_hex(*kek), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
}

TEST_F(KekTest, FileOfRawBytes) {
  KekSource s;
  s.file = write("kek", std::string(32, '\x07'), 0400);
  auto kek = load_kek(s);
  ASSERT_TRUE(kek) << kek.error().message;
  EXPECT_EQ(*kek, std::string(32, '\x07'));
}

TEST_F(KekTest, FileOthersCanReadIsRefused) {
  KekSource s;
  s.file = write("kek", kHexKey, 0644);
  auto kek = load_kek(s);
  ASSERT_FALSE(kek);
  EXPECT_EQ(kek.error().field, "kek_file");
  EXPECT_NE(kek.error().message.find("chmod 600"), std::string::npos) << kek.error().message;
}

TEST_F(KekTest, NotAKeyIsRefusedWithoutEchoingIt) {
  KekSource s;
  s.file = write("kek", kHexKey.substr(0, 62) + "zz", 0600);
  auto kek = load_kek(s);
  ASSERT_FALSE(kek);
  EXPECT_NE(kek.error().message.find("is not a key"), std::string::npos) << kek.error().message;
  EXPECT_EQ(kek.error().message.find("00112233"), std::string::npos);
}

TEST_F(KekTest, MissingFileAndNeitherOrBothAreRefused) {
  KekSource missing;
  missing.file = dir_ / "none";
  EXPECT_FALSE(load_kek(missing));
  KekSource neither;
  auto e = load_kek(neither);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("is required"), std::string::npos);
  KekSource both;
  both.file = write("kek", kHexKey, 0600);
  both.command = "true";
  EXPECT_FALSE(load_kek(both));
}

TEST_F(KekTest, CommandPrintsTheKeyWithoutAShell) {
  KekSource s;
  s.command = "printf " + kHexKey;
  auto kek = load_kek(s);
  ASSERT_TRUE(kek) << kek.error().message;
  EXPECT_EQ(kek->size(), 32u);
  // No shell: '|' and what follows are echo's arguments, so the output is not a key.
  KekSource shellish;
  shellish.command = "echo " + kHexKey + " | cat";
  EXPECT_FALSE(load_kek(shellish));
}

TEST_F(KekTest, CommandFailuresNameTheConfigKey) {
  KekSource fails;
  fails.command = "false";
  auto e = load_kek(fails);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().field, "kek_command");
  EXPECT_NE(e.error().message.find("exited with status 1"), std::string::npos) << e.error().message;
  KekSource unknown;
  unknown.command = "alliance-no-such-kms-client";
  EXPECT_FALSE(load_kek(unknown));
}

TEST_F(KekTest, IdNamesTheKeyStably) {
  const std::string a(32, 'a');
  const std::string b(32, 'b');
  EXPECT_EQ(kek_id(a), kek_id(a));
  EXPECT_NE(kek_id(a), kek_id(b));
  EXPECT_EQ(kek_id(a).size(), 16u);
}

}  // namespace
}  // namespace alliance::crypto
