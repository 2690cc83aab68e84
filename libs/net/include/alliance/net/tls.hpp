#pragma once
// TLS contexts for Alliance listeners and RPC clients. Every function here is
// start-up code: a file that cannot be loaded throws std::runtime_error naming
// the file (the service exits 1), never a Result.
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <string>

#include "alliance/core/asio.hpp"

namespace alliance::net {

// The PEM files one side of a mutually authenticated RPC connection presents and trusts.
struct TlsFiles {
  std::filesystem::path ca;    // the practice-internal CA that must have signed the peer
  std::filesystem::path cert;  // our certificate (chain), PEM
  std::filesystem::path key;   // our private key, PEM
};

// RPC server side: TLS 1.2 minimum, modern AEAD ciphers, presents cert/key and
// requires a client certificate chained to `ca` (verify_peer|verify_fail_if_no_peer_cert).
asio::ssl::context make_rpc_server_context(const TlsFiles& files);

// RPC client side: presents cert/key and verifies the server's chain against `ca`.
// The server's *name* is checked per connection by RpcClient (Options::server_name),
// so one context can serve clients of several services.
asio::ssl::context make_rpc_client_context(const TlsFiles& files);

// Any other TLS client of a practice-internal server (Redis): verifies the server's chain
// against `ca` and presents `cert`/`key` when both are given (for a server that asks for
// a client certificate); with both empty it presents none. The name check is per
// connection, as for RPC.
asio::ssl::context make_tls_client_context(const std::filesystem::path& ca, const std::filesystem::path& cert,
                                           const std::filesystem::path& key);

// The gateway's public HTTPS/WSS listener: TLS 1.2 minimum, modern ciphers only,
// no client certificates.
asio::ssl::context make_public_server_context(const std::filesystem::path& cert,
                                              const std::filesystem::path& key);

// Per connection, before a client handshake: the name the server's certificate must
// carry (an IP address against its IP entries; a DNS name against its DNS entries, RFC
// 6125, no partial wildcards, and sent as SNI). A certificate without it fails the
// handshake with X509_V_ERR_HOSTNAME_MISMATCH or X509_V_ERR_IP_ADDRESS_MISMATCH. False
// if OpenSSL would not take the name.
bool expect_server_name(SSL* ssl, const std::string& name);

}  // namespace alliance::net
