#include "alliance/net/tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/system/system_error.hpp>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace alliance::net {
namespace {

// TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are all fine by default).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

[[noreturn]] void fail(std::string_view what, const std::filesystem::path& file, std::string_view why) {
  throw std::runtime_error("tls: cannot load " + std::string(what) + " \"" + file.string() + "\": " +
                           std::string(why));
}

void check_readable(std::string_view what, const std::filesystem::path& file) {
  if (file.empty()) throw std::runtime_error("tls: no " + std::string(what) + " file configured");
  if (!std::filesystem::is_regular_file(file) || ::access(file.c_str(), R_OK) != 0)
    fail(what, file, "file does not exist or is not readable");
}

asio::ssl::context base_context(asio::ssl::context::method method) {
  asio::ssl::context ctx(method);
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression |
                  asio::ssl::context::single_dh_use);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1)
    throw std::runtime_error("tls: OpenSSL rejected the cipher list");
  return ctx;
}

void load_identity(asio::ssl::context& ctx, const std::filesystem::path& cert,
                   const std::filesystem::path& key) {
  check_readable("certificate", cert);
  check_readable("private key", key);
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(cert.string(), ec);
  if (ec) fail("certificate", cert, ec.message());
  ctx.use_private_key_file(key.string(), asio::ssl::context::pem, ec);
  if (ec) fail("private key", key, ec.message());
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    fail("private key", key, "does not match certificate " + cert.string());
}

// OpenSSL fills a certificate's cache of decoded extensions (key identifiers, key usage)
// the first time a verification needs it. Two threads verifying peers against the same
// CA at once can both find it empty and both fill it, one freeing what the other is
// reading. Filling it here, before the context is shared, leaves nothing to write later.
void cache_extensions_of_trusted(asio::ssl::context& ctx) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.native_handle());
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    if (X509* cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i))) X509_check_purpose(cert, -1, 0);
  }
}

void load_ca(asio::ssl::context& ctx, const std::filesystem::path& ca) {
  check_readable("CA certificate", ca);
  boost::system::error_code ec;
  ctx.load_verify_file(ca.string(), ec);
  if (ec) fail("CA certificate", ca, ec.message());
  cache_extensions_of_trusted(ctx);
}

}  // namespace

asio::ssl::context make_rpc_server_context(const TlsFiles& files) {
  auto ctx = base_context(asio::ssl::context::tls_server);
  load_identity(ctx, files.cert, files.key);
  load_ca(ctx, files.ca);
  ctx.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  // Needed for session resumption when client certificates are verified.
  static constexpr unsigned char kSessionContext[] = "alliance-rpc";
  SSL_CTX_set_session_id_context(ctx.native_handle(), kSessionContext, sizeof kSessionContext - 1);
  return ctx;
}

asio::ssl::context make_rpc_client_context(const TlsFiles& files) {
  check_readable("certificate", files.cert);  // RPC always presents one
  return make_tls_client_context(files.ca, files.cert, files.key);
}

asio::ssl::context make_tls_client_context(const std::filesystem::path& ca, const std::filesystem::path& cert,
                                           const std::filesystem::path& key) {
  auto ctx = base_context(asio::ssl::context::tls_client);
  if (!cert.empty() || !key.empty()) load_identity(ctx, cert, key);
  load_ca(ctx, ca);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

asio::ssl::context make_public_server_context(const std::filesystem::path& cert,
                                              const std::filesystem::path& key) {
  auto ctx = base_context(asio::ssl::context::tls_server);
  load_identity(ctx, cert, key);
  ctx.set_verify_mode(asio::ssl::verify_none);
  return ctx;
}

bool expect_server_name(SSL* ssl, const std::string& name) {
  boost::system::error_code not_ip;
  asio::ip::make_address(name, not_ip);
  if (!not_ip) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set_tlsext_host_name(ssl, name.c_str()) == 1 && SSL_set1_host(ssl, name.c_str()) == 1;
}

}  // namespace alliance::net
