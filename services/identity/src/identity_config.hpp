#pragma once
// identity's configuration (service name "identity"; every key also
// ALLIANCE_IDENTITY_<KEY> or --key). Start-up code: every bad value throws
// ConfigError naming the key.
#include <filesystem>
#include <optional>
#include <set>
#include <string>

#include "alliance/core/config.hpp"
#include "alliance/redis/types.hpp"
#include "alliance/core/log.hpp"
#include "alliance/crypto/ed25519.hpp"
#include "alliance/net/tls.hpp"
#include "alliance/store/sealed_fields.hpp"
#include "audit_log.hpp"
#include "identity_service.hpp"

namespace alliance::identity {

struct IdentityConfig {
  HostPort listen;                                       // listen (default 127.0.0.1:7101)
  std::string listen_unix;                               // listen_unix: also a Unix-domain socket here (default: none)
  std::size_t threads = 1;                               // threads: RPC I/O threads (default: usable cores)
  net::TlsFiles tls;                                     // tls_ca, tls_cert, tls_key
  std::filesystem::path database;                        // database
  store::KekPair keys;  // kek_file | kek_command, kek_previous_file | kek_previous_command (rotation)
  AuditOptions audit;  // audit_database (default audit.db beside database), audit_checkpoint_every/_interval
  std::filesystem::path audit_signing_key;               // audit_signing_key_file (made at first start, 0600)
  redis::Options redis;                                  // redis, redis_user, redis_password_file, redis_tls and its files
  std::optional<crypto::Ed25519PrivateKey> signing_key;  // token_signing_key (PEM file)
  IdentityOptions service;                           // token_*, *_ttl, operator_token_file, scrypt*, backoff
  std::set<std::string, std::less<>> allowed_peers;  // allowed_peers: call for end users (default "gateway")
  log::Level log_level = log::Level::kInfo;          // log_level
  std::filesystem::path ready_file;                  // ready_file (optional)
};

// Reads every key, loads the signing key and operator token, then reject_unknown().
IdentityConfig load_identity_config(const Config& config);

}  // namespace alliance::identity
