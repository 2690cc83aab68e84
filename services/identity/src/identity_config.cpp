#include "identity_config.hpp"

#include <fstream>
#include <sstream>

#include "alliance/core/runtime.hpp"
#include "identity_rpc.hpp"

namespace alliance::identity {
namespace {

std::string read_trimmed(const std::filesystem::path& path, const char* key) {
  std::ifstream in(path);
  if (!in)
    throw ConfigError(key, std::string("config: key \"") + key + "\": cannot read \"" + path.string() + "\"");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.back())) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && is_space(s[b])) ++b;
  return s.substr(b);
}

}  // namespace

IdentityConfig load_identity_config(const Config& config) {
  using namespace std::chrono_literals;
  IdentityConfig c;
  c.listen = config.host_port("listen", "127.0.0.1:7101");
  c.listen_unix = config.unix_socket_path("listen_unix");
  c.threads = io_threads(config);
  c.tls.ca = config.file("tls_ca");
  c.tls.cert = config.file("tls_cert");
  c.tls.key = config.file("tls_key");
  c.database = config.output_path("database", "identity.db");
  c.keys = store::load_kek_pair(config);
  const auto beside = [&](const char* name) { return (c.database.parent_path() / name).string(); };
  c.audit.database = config.output_path("audit_database", beside("audit.db"));
  c.audit.checkpoint_every = config.integer("audit_checkpoint_every", 1000, 1, 1'000'000);
  c.audit.checkpoint_interval = config.duration("audit_checkpoint_interval", 60s);
  if (c.audit.checkpoint_interval < 1s)
    throw ConfigError("audit_checkpoint_interval", "config: key \"audit_checkpoint_interval\": must be at least 1s");
  c.audit_signing_key = config.output_path("audit_signing_key_file", beside("audit_signing_key.pem"));
  c.redis = redis::load_options(config, "identity");

  auto key_path = config.file("token_signing_key");
  auto key = crypto::Ed25519PrivateKey::from_pem_file(key_path);
  if (!key)
    throw ConfigError("token_signing_key", "config: key \"token_signing_key\": " + key.error().message);
  c.signing_key.emplace(std::move(*key));

  auto& s = c.service;
  s.token_issuer = config.string("token_issuer", "alliance");
  s.token_audience = config.string("token_audience", "alliance-api");
  if (s.token_issuer.empty())
    throw ConfigError("token_issuer", "config: key \"token_issuer\": must not be empty");
  if (s.token_audience.empty())
    throw ConfigError("token_audience", "config: key \"token_audience\": must not be empty");
  s.access_token_ttl = config.duration("access_token_ttl", 15min);
  s.refresh_token_ttl = config.duration("refresh_token_ttl", std::chrono::hours(24 * 30));
  if (s.access_token_ttl < 1s)
    throw ConfigError("access_token_ttl", "config: key \"access_token_ttl\": must be at least 1s");
  if (s.refresh_token_ttl < s.access_token_ttl)
    throw ConfigError("refresh_token_ttl",
                      "config: key \"refresh_token_ttl\": must be at least access_token_ttl");
  s.operator_token = read_trimmed(config.file("operator_token_file"), "operator_token_file");
  if (s.operator_token.size() < 16)
    throw ConfigError("operator_token_file",
                      "config: key \"operator_token_file\": the token must be at least 16 characters");
  s.scrypt_log2_n =
      static_cast<int>(config.integer("scrypt_log2_n", kDefaultScryptLog2N, kMinScryptLog2N, kMaxScryptLog2N));
  // Test suites and benchmarks make hundreds of users; this key alone takes the cost
  // below the floor, replaces scrypt_log2_n, and the service warns about it at start.
  const auto test_log2_n =
      config.integer("insecure_scrypt_log2_n_for_tests", 0, kMinTestScryptLog2N, kMinScryptLog2N - 1);
  if (test_log2_n != 0) {
    s.scrypt_log2_n = static_cast<int>(test_log2_n);
    s.insecure_scrypt_for_tests = true;
  }
  s.login_backoff_after = static_cast<int>(config.integer("login_backoff_after", 5, 1, 1000));
  s.login_backoff_max = config.duration("login_backoff_max", 15min);

  // Only the peers that assert end users; services reach their methods by name (identity_rpc.cpp).
  c.allowed_peers = config.list("allowed_peers", "gateway");
  c.log_level = config.log_level();
  auto ready = config.string("ready_file", "");
  if (!ready.empty()) c.ready_file = config.output_path("ready_file", "");
  config.reject_unknown();
  return c;
}

}  // namespace alliance::identity
