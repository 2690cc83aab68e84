// parse_gateway_url: what an operator may type after --gateway, and what is refused.
#include <gtest/gtest.h>

#include "alliance/client/endpoint.hpp"

namespace alliance::client {
namespace {

TEST(ParseGatewayUrl, AcceptsHttpsHostAndPort) {
  auto ep = parse_gateway_url("https://127.0.0.1:8443", "/tmp/ca.pem");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 8443);
  EXPECT_EQ(ep->ca_file, "/tmp/ca.pem");
}

TEST(ParseGatewayUrl, AcceptsNamesTrailingSlashUpperCaseSchemeAndDefaultPort) {
  auto ep = parse_gateway_url("HTTPS://gateway.example.org/", "");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_EQ(ep->host, "gateway.example.org");
  EXPECT_EQ(ep->port, 443);
  EXPECT_TRUE(ep->ca_file.empty());
}

TEST(ParseGatewayUrl, AcceptsBracketedIpv6) {
  auto ep = parse_gateway_url("https://[::1]:9443", "");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 9443);
}

TEST(ParseGatewayUrl, RefusesPlainHttpNamingTheField) {
  auto ep = parse_gateway_url("http://127.0.0.1:8443", "");
  ASSERT_FALSE(ep);
  EXPECT_EQ(ep.error().code, Code::kInvalidArgument);
  EXPECT_EQ(ep.error().field, "gateway");
  EXPECT_NE(ep.error().message.find("https"), std::string::npos) << ep.error().message;
}

TEST(ParseGatewayUrl, RefusesMalformedAddresses) {
  for (const char* bad : {"", "127.0.0.1:8443", "wss://127.0.0.1:8443", "https://", "https://:8443",
                          "https://127.0.0.1:", "https://127.0.0.1:0", "https://127.0.0.1:65536",
                          "https://127.0.0.1:84x3", "https://127.0.0.1:8443/v1", "https://127.0.0.1:8443?x=1",
                          "https://user:pw@127.0.0.1:8443", "https://[::1", "https://[::1]x", "https://bad host:1"}) {
    auto ep = parse_gateway_url(bad, "");
    EXPECT_FALSE(ep) << "accepted '" << bad << "'";
    if (!ep) {
      EXPECT_EQ(ep.error().field, "gateway") << bad;
      EXPECT_EQ(ep.error().code, Code::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace alliance::client
