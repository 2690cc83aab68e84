// scripts/dev-certs: what every other test and `scripts/run` build their TLS on.
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <ctime>

#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <thread>
#include <vector>

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
  EXPECT_EQ(mode_of(c.redis_key()), 0600u);
  EXPECT_EQ(mode_of(c.redis_admin_key()), 0600u);
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
  EXPECT_TRUE(signed_by(c.redis_cert(), c.ca()));
  EXPECT_TRUE(signed_by(c.redis_admin_cert(), c.ca()));
  EXPECT_NO_THROW(make_tls_client_context(c.ca(), c.redis_admin_cert(), c.redis_admin_key()));
  EXPECT_FALSE(signed_by(c.rogue_cert(), c.ca()));
}

// Runs a mutual-TLS handshake between a server and a client context over a memory pipe.
// Returns "" when both sides accept, else what OpenSSL said.
std::string handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx) {
  SSL* server = SSL_new(server_ctx);
  SSL* client = SSL_new(client_ctx);
  BIO* server_end = nullptr;
  BIO* client_end = nullptr;
  BIO_new_bio_pair(&server_end, 0, &client_end, 0);
  SSL_set_bio(server, server_end, server_end);
  SSL_set_bio(client, client_end, client_end);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  std::string failure;
  bool server_done = false, client_done = false;
  for (int round = 0; round < 20 && failure.empty() && !(server_done && client_done); ++round) {
    for (auto [ssl, done] : {std::pair{client, &client_done}, std::pair{server, &server_done}}) {
      if (*done) continue;
      int rc = SSL_do_handshake(ssl);
      if (rc == 1) {
        *done = true;
      } else if (int err = SSL_get_error(ssl, rc); err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        long verify = SSL_get_verify_result(ssl);
        failure = verify != X509_V_OK ? X509_verify_cert_error_string(verify)
                                      : ERR_reason_error_string(ERR_peek_last_error());
        break;
      }
    }
  }
  if (failure.empty() && !(server_done && client_done)) failure = "handshake did not finish";
  ERR_clear_error();
  SSL_free(server);
  SSL_free(client);
  return failure;
}

// The real RPC server and client contexts, both sides checking certificates as if their
// clock read `clock`.
std::string handshake_at(const alliance::testing::DevCerts& c, std::time_t clock) {
  auto server_ctx = make_rpc_server_context(TlsFiles{c.ca(), c.cert("identity"), c.key("identity")});
  auto client_ctx = make_rpc_client_context(TlsFiles{c.ca(), c.cert("gateway"), c.key("gateway")});
  X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(server_ctx.native_handle()), clock);
  X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(client_ctx.native_handle()), clock);
  return handshake(server_ctx.native_handle(), client_ctx.native_handle());
}

// A host whose clock is an hour behind the one that made the certificates still
// accepts them (they are valid from a day before they were made), in both directions
// of mutual TLS; a clock two days behind does not, so the check is a real one.
TEST(DevCerts, AcceptedByPeersWhoseClockIsBehind) {
  auto& c = alliance::testing::dev_certs();
  const std::time_t now = std::time(nullptr);
  EXPECT_EQ(handshake_at(c, now), "");
  EXPECT_EQ(handshake_at(c, now - 3600), "");
  EXPECT_EQ(handshake_at(c, now - 20 * 3600), "");
  EXPECT_EQ(handshake_at(c, now - 2 * 86400), "certificate is not yet valid");
}

// A service's I/O threads share one server context and one client context, and their
// first handshakes can come at the same moment: each verifies its peer against the
// same trusted CA. Every handshake succeeds, and in the ThreadSanitizer build
// (ALLIANCE_TSAN, scripts/sanitize --thread) no thread writes what another reads: the
// CA's cached extensions are filled when the context is made, not by the first
// handshakes racing to fill them.
TEST(TlsContexts, FirstHandshakesOnManyThreadsAtOnceShareOneContextEachSide) {
  auto& c = alliance::testing::dev_certs();
  for (int round = 0; round < 5; ++round) {
    auto server_ctx = make_rpc_server_context(TlsFiles{c.ca(), c.cert("identity"), c.key("identity")});
    auto client_ctx = make_rpc_client_context(TlsFiles{c.ca(), c.cert("gateway"), c.key("gateway")});
    constexpr int kThreads = 4;
    std::atomic<int> waiting{kThreads};
    std::vector<std::string> failures(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        waiting.fetch_sub(1);
        while (waiting.load() > 0) std::this_thread::yield();
        failures[t] = handshake(server_ctx.native_handle(), client_ctx.native_handle());
      });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "round " << round << ", thread " << t;
  }
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
