#pragma once
// IdentityService behind a real RpcServer on 127.0.0.1:0 (real SQLite, real Redis),
// called over mutual TLS with the development certificate of each peer service, as
// the other services and the gateway call it.
#include <boost/asio/ssl/context.hpp>
#include <map>

#include "alliance/net/rpc_client.hpp"
#include "alliance/net/tls.hpp"
#include "dev_certs.hpp"
#include "identity_rpc.hpp"
#include "identity_service_fixture.hpp"

namespace alliance::identity {

// What RpcServer answers a peer that may not call a method.
inline constexpr std::string_view kRefused = "this peer may not call this method";

class IdentityRpcTest : public IdentityServiceTest {
 protected:
  static void TearDownTestSuite() {
    // Only after every test's io_context is gone: no TLS stream can still use them.
    delete contexts_;
    contexts_ = nullptr;
    IdentityServiceTest::TearDownTestSuite();
  }

  void SetUp() override {
    IdentityServiceTest::SetUp();
    if (HasFatalFailure()) return;
    server_ = std::make_unique<net::RpcServer>(io_.get_executor(), context("identity-server"),
                                               net::RpcServer::Options{.service_name = "identity"});
    register_identity_rpc(*server_, *service_, {"gateway"});  // the configuration's default
    port_ = server_->listen();
    ASSERT_NE(port_, 0);
  }

  void TearDown() override {
    clients_.clear();
    if (server_) {
      server_->stop();
      const auto deadline = std::chrono::steady_clock::now() + 5s;
      while (server_->open_connections() > 0 && std::chrono::steady_clock::now() < deadline)
        io_.run_one_for(20ms);
      server_.reset();
    }
    IdentityServiceTest::TearDown();
  }

  // The TLS context for a peer's certificate ("rogue": signed by an untrusted CA),
  // or the identity server's ("identity-server"); made once per suite.
  static asio::ssl::context& context(const std::string& name) {
    if (!contexts_) contexts_ = new std::map<std::string, std::unique_ptr<asio::ssl::context>>();
    auto& slot = (*contexts_)[name];
    if (!slot) {
      const auto& c = alliance::testing::dev_certs();
      if (name == "identity-server")
        slot = std::make_unique<asio::ssl::context>(
            net::make_rpc_server_context(net::TlsFiles{c.ca(), c.cert("identity"), c.key("identity")}));
      else if (name == "rogue")
        slot = std::make_unique<asio::ssl::context>(
            net::make_rpc_client_context(net::TlsFiles{c.ca(), c.rogue_cert(), c.rogue_key()}));
      else
        slot = std::make_unique<asio::ssl::context>(
            net::make_rpc_client_context(net::TlsFiles{c.ca(), c.cert(name), c.key(name)}));
    }
    return *slot;
  }

  net::RpcClient& client(const std::string& peer) {
    auto& slot = clients_[peer];
    if (!slot)
      slot = std::make_unique<net::RpcClient>(
          io_.get_executor(), context(peer),
          net::RpcClient::Options{.host = "127.0.0.1", .port = port_, .server_name = "identity"});
    return *slot;
  }

  // Calls identity's `method` as `peer`, asserting `caller` (empty: the peer itself).
  template <class Resp, class Req>
  Result<Resp> call(const std::string& peer, std::string_view method, const Req& req,
                    const rpc::v1::Caller& caller = {}) {
    const std::string full = std::string(kMethodPrefix) + std::string(method);  // outlives the call
    return run(client(peer).call<Resp>(full, req, caller, 2s));
  }

  Result<std::string> call_empty(const std::string& peer, std::string_view method) {
    const std::string full = std::string(kMethodPrefix) + std::string(method);
    return run(client(peer).call_raw(full, std::string(), rpc::v1::Caller{}, 2s));
  }

  // The Caller the gateway forwards for a signed-in user.
  static rpc::v1::Caller caller_of(const pb::User& u) { return as(u).caller; }

  static void expect_refused(const auto& r, const std::string& what) {
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code, Code::kPermissionDenied) << what;
    EXPECT_EQ(r.error().message, kRefused) << what;
  }

  static inline std::map<std::string, std::unique_ptr<asio::ssl::context>>* contexts_ = nullptr;
  std::unique_ptr<net::RpcServer> server_;
  std::uint16_t port_ = 0;
  std::map<std::string, std::unique_ptr<net::RpcClient>> clients_;
};

}  // namespace alliance::identity
