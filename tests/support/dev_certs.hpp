#pragma once
// Development certificates for tests, made once per test process by running
// scripts/dev-certs DIR --rogue into a temp folder (removed at exit unless
// ALLIANCE_KEEP_TEST_DIRS is set). Blocking; call from any test thread.
#include <filesystem>
#include <string>

namespace alliance::testing {

struct DevCerts {
  std::filesystem::path dir;

  std::filesystem::path ca() const { return dir / "ca.pem"; }
  // Service identities: "gateway", "identity", "messaging", "scheduling", "reminders".
  std::filesystem::path key(const std::string& svc) const { return dir / (svc + ".key"); }
  std::filesystem::path cert(const std::string& svc) const { return dir / (svc + ".pem"); }
  // The gateway's public HTTPS/WSS certificate (localhost, 127.0.0.1).
  std::filesystem::path public_cert() const { return dir / "gateway-public.pem"; }
  std::filesystem::path public_key() const { return dir / "gateway-public.key"; }
  // Redis's TLS server certificate (redis, localhost, 127.0.0.1) and the operator's
  // client certificate for Redis (redis-cli, tests logged in as admin).
  std::filesystem::path redis_cert() const { return dir / "redis.pem"; }
  std::filesystem::path redis_key() const { return dir / "redis.key"; }
  std::filesystem::path redis_admin_cert() const { return dir / "redis-admin.pem"; }
  std::filesystem::path redis_admin_key() const { return dir / "redis-admin.key"; }
  // Ed25519 private key (PEM) identity signs access tokens with.
  std::filesystem::path token_key() const { return dir / "token-signing.pem"; }
  // The platform operator's bootstrap secret (64 hex digits).
  std::filesystem::path operator_token_file() const { return dir / "operator.token"; }
  // The key-encryption key (64 hex digits, 0600) identity and scheduling seal personal data under.
  std::filesystem::path kek_file() const { return dir / "data.kek"; }
  // CN=identity, signed by a different CA: must be refused everywhere.
  std::filesystem::path rogue_cert() const { return dir / "rogue.pem"; }
  std::filesystem::path rogue_key() const { return dir / "rogue.key"; }
  std::filesystem::path rogue_ca() const { return dir / "rogue-ca.pem"; }
};

// Generated on first use (about a second), then cached. Throws std::runtime_error
// if the script fails.
const DevCerts& dev_certs();

}  // namespace alliance::testing
