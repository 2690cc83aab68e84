#pragma once
// The identity service test fixture: IdentityService built directly (no RPC) over a
// real SQLite file in a temp dir and a real redis-server, with helpers that act as
// the gateway would (a Caller per signed-in user).
#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/jwt.hpp"
#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/client.hpp"
#include "alliance/redis/subscriber.hpp"
#include "identity_service.hpp"
#include "process.hpp"
#include "redis_login.hpp"
#include "redis_server.hpp"

namespace alliance::identity {

using namespace std::chrono_literals;

inline constexpr char kOperatorToken[] = "operator-token-for-identity-tests";
inline constexpr char kPassword[] = "correct horse battery staple";
// The key-encryption key of the tests' identity.db (32 bytes).
inline const std::string kTestKek(32, 'k');

class IdentityServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { redis_server_ = new testing::RedisServer(); }
  static void TearDownTestSuite() {
    delete redis_server_;
    redis_server_ = nullptr;
  }

  void SetUp() override { build(testing::redis_login(*redis_server_, "admin")); }

  void build(redis::Options redis_options, bool redis_up = true) {
    redis_options.command_timeout = 500ms;
    redis_ = std::make_unique<redis::Client>(io_.get_executor(), redis_options);
    redis_->start();
    if (redis_up) {
      ASSERT_TRUE(run(redis_->wait_connected(2s)));
    }
    auto store = IdentityStore::open(dir_.path() / "identity.db", keys_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    IdentityOptions o;
    o.operator_token = kOperatorToken;
    // Tests make many users: a cost below the production floor, allowed for tests only.
    o.scrypt_log2_n = scrypt_log2_n_;
    o.insecure_scrypt_for_tests = true;
    o.login_backoff_after = 3;
    o.access_token_ttl = 5min;
    o.refresh_token_ttl = refresh_token_ttl_;
    o.password_reset_ttl = password_reset_ttl_;
    service_ = std::make_unique<IdentityService>(*store_, redis_.get(), pool_.get_executor(),
                                                 crypto::Ed25519PrivateKey::generate(), o);
  }

  // A fresh service over the same database file, e.g. after changing refresh_token_ttl_
  // or scrypt_log2_n_.
  void rebuild() {
    service_.reset();
    redis_->stop();
    io_.poll();
    io_.restart();  // poll() may have run out of work, which stops io_
    store_.reset();
    build(testing::redis_login(*redis_server_, "admin"));
  }

  void TearDown() override {
    service_.reset();
    redis_->stop();
    io_.poll();
    store_.reset();
  }

  // Runs the awaitable on io_ until it finishes (10 s at most).
  template <class T>
  T run(asio::awaitable<T> a) {
    std::optional<T> out;
    bool done = false;
    std::exception_ptr ep;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(a)); },
        [&](std::exception_ptr e) {
          ep = e;
          done = true;
        });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      // A client or store torn down (rebuild()) may have released io_'s last work,
      // which stops it; a stopped io_context runs nothing until restarted.
      if (io_.stopped()) io_.restart();
      io_.run_one_for(50ms);
    }
    if (ep) std::rethrow_exception(ep);
    if (!done) throw std::runtime_error("operation did not finish within 10 s");
    return std::move(*out);
  }

  static net::CallContext as(const pb::User& u, std::string session_id = "", std::string address = "") {
    net::CallContext ctx;
    ctx.caller.set_user_id(u.id());
    ctx.caller.set_practice_id(u.practice_id());
    ctx.caller.set_role(u.role());
    ctx.caller.set_session_id(std::move(session_id));
    ctx.caller.set_source_address(std::move(address));
    ctx.peer_name = "gateway";
    return ctx;
  }
  static net::CallContext from(std::string address) {
    net::CallContext ctx;
    ctx.caller.set_source_address(std::move(address));
    ctx.peer_name = "gateway";
    return ctx;
  }

  static pb::CreatePracticeRequest practice_request(const std::string& slug) {
    pb::CreatePracticeRequest req;
    req.set_operator_token(kOperatorToken);
    req.set_name("Practice " + slug);
    req.set_slug(slug);
    req.set_admin_email("admin@" + slug + ".example");
    req.set_admin_password(kPassword);
    req.set_admin_display_name("Admin");
    return req;
  }

  pb::CreatePracticeResponse make_practice(const std::string& slug) {
    auto r = run(service_->create_practice(practice_request(slug), {}));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : pb::CreatePracticeResponse{};
  }

  pb::User make_user(const pb::User& admin, const std::string& email, const std::string& role) {
    pb::CreateUserRequest req;
    req.set_email(email);
    req.set_password(kPassword);
    req.set_display_name("User " + role);
    req.set_role(role);
    auto r = run(service_->create_user(req, as(admin)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->user() : pb::User{};
  }

  Result<pb::TokenResponse> login(const std::string& slug, const std::string& email,
                                  const std::string& password, const std::string& address = "203.0.113.1") {
    pb::LoginRequest req;
    req.set_practice(slug);
    req.set_email(email);
    req.set_password(password);
    return run(service_->login(req, from(address)));
  }

  Result<pb::TokenResponse> refresh(const std::string& token) {
    pb::RefreshRequest req;
    req.set_refresh_token(token);
    return run(service_->refresh(req, from("203.0.113.1")));
  }

  crypto::KeySet verification_keys() {
    auto keys = run(service_->get_verification_keys({}, {}));
    EXPECT_TRUE(keys.ok());
    crypto::KeySet set;
    if (keys.ok())
      for (const auto& k : keys->keys()) set.emplace(k.kid(), k.ed25519_public_key());
    return set;
  }

  Result<crypto::AccessClaims> verify(const std::string& token) {
    return crypto::verify_access_token(token, verification_keys(),
                                       {"alliance", "alliance-api", now_unix_ms() / 1000});
  }

  static inline testing::RedisServer* redis_server_ = nullptr;
  std::chrono::milliseconds refresh_token_ttl_ = std::chrono::hours(24 * 30);
  std::chrono::milliseconds password_reset_ttl_ = std::chrono::minutes(30);
  int scrypt_log2_n_ = kMinTestScryptLog2N;
  store::KekPair keys_{kTestKek};  // the KEK (and previous one) build() opens the store with
  testing::TempDir dir_;
  asio::io_context io_;
  asio::thread_pool pool_{1};
  std::unique_ptr<redis::Client> redis_;
  std::unique_ptr<IdentityStore> store_;
  std::unique_ptr<IdentityService> service_;
};

}  // namespace alliance::identity
