// scripts/dev-certs: what every other test and `scripts/run` build their TLS on.
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

#include "alliance/net/tls.hpp"
#include "dev_certs.hpp"
#include "process.hpp"

namespace alliance::net {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

// True if `cert` carries a valid signature by `ca`'s key.
bool signed_by(const std::filesystem::path& cert, const std::filesystem::path& ca) {
  auto read = [](const std::filesystem::path& p) {
    FILE* f = std::fopen(p.c_str(), "r");
    if (!f) return static_cast<X509*>(nullptr);
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    return x;
  };
  X509* leaf = read(cert);
  X509* issuer = read(ca);
  bool ok = leaf && issuer && X509_verify(leaf, X509_get0_pubkey(issuer)) == 1;
  X509_free(leaf);
  X509_free(issuer);
  return ok;
}

int run_script(const std::filesystem::path& dir) {
  std::string cmd = "bash '" ALLIANCE_SOURCE_DIR "/scripts/dev-certs' '" + dir.string() + "' >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(DevCerts, CreatesEveryFileWithPrivateModes) {
  auto& c = alliance::testing::dev_certs();
  EXPECT_EQ(mode_of(c.dir), 0700u);
  for (std::string svc : {"gateway", "identity", "messaging", "scheduling", "reminders"}) {
    EXPECT_TRUE(std::filesystem::exists(c.cert(svc))) << svc;
    EXPECT_EQ(mode_of(c.key(svc)), 0600u) << svc;
  }
  EXPECT_EQ(mode_of(c.token_key()), 0600u);
  EXPECT_EQ(mode_of(c.rogue_key()), 0600u);
  EXPECT_EQ(mode_of(c.operator_token_file()), 0600u);
  std::string token = slurp(c.operator_token_file());
  while (!token.empty() && token.back() == '\n') token.pop_back();
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(slurp(c.token_key()).find("BEGIN PRIVATE KEY"), std::string::npos);
  // Each pair loads and matches (the loaders check key against certificate).
  EXPECT_NO_THROW(make_rpc_server_context(TlsFiles{c.ca(), c.cert("messaging"), c.key("messaging")}));
  EXPECT_NO_THROW(make_public_server_context(c.public_cert(), c.public_key()));
  EXPECT_TRUE(signed_by(c.cert("identity"), c.ca()));
  EXPECT_TRUE(signed_by(c.public_cert(), c.ca()));
  EXPECT_FALSE(signed_by(c.rogue_cert(), c.ca()));
}

TEST(DevCerts, RunningTwiceChangesNothingAndRefillsWhatIsMissing) {
  alliance::testing::TempDir tmp;
  auto dir = tmp.path() / "certs";
  ASSERT_EQ(run_script(dir), 0);
  std::string ca = slurp(dir / "ca.pem");
  std::string token = slurp(dir / "operator.token");
  std::string identity = slurp(dir / "identity.pem");
  ASSERT_FALSE(ca.empty());
  EXPECT_FALSE(std::filesystem::exists(dir / "rogue.pem"));  // only with --rogue

  std::filesystem::remove(dir / "scheduling.pem");
  ASSERT_EQ(run_script(dir), 0);
  EXPECT_EQ(slurp(dir / "ca.pem"), ca);
  EXPECT_EQ(slurp(dir / "operator.token"), token);
  EXPECT_EQ(slurp(dir / "identity.pem"), identity);
  // The re-made certificate is signed by the same, kept CA, and matches its kept key.
  EXPECT_TRUE(signed_by(dir / "scheduling.pem", dir / "ca.pem"));
  EXPECT_NO_THROW(make_rpc_server_context(TlsFiles{dir / "ca.pem", dir / "scheduling.pem", dir / "scheduling.key"}));
}

}  // namespace
}  // namespace alliance::net
