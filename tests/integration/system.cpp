#include "system.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "alliance/core/asio.hpp"
#include "alliance/core/config.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/redis/push.hpp"
#include "alliance/store/connection.hpp"
#include "alliance/store/query.hpp"
#include "redis_login.hpp"

namespace alliance::testing {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// Adds "--key value" for each entry.
void append_flags(std::vector<std::string>& args, const std::map<std::string, std::string>& flags) {
  for (const auto& [k, v] : flags) {
    args.push_back("--" + k);
    args.push_back(v);
  }
}

}  // namespace

std::filesystem::path binary(const std::string& relative) {
  return std::filesystem::path(ALLIANCE_BINARY_DIR) / relative;
}

void System::add_redis_login(std::vector<std::string>& args, const std::string& user) const {
  args.insert(args.end(), {"--redis_user", user, "--redis_password_file", RedisServer::password_file(user).string()});
  if (redis_.tls()) {
    // Each service presents its own certificate to Redis, as deploy/ configures it.
    const auto& certs = dev_certs();
    args.insert(args.end(), {"--redis_tls", "true", "--redis_ca_file", certs.ca().string(), "--redis_cert_file",
                             certs.cert(user).string(), "--redis_key_file", certs.key(user).string()});
  }
}

std::string System::rpc_address(const std::string& service, std::uint16_t port) const {
  return rpc_over_unix_ ? "unix:" + socket_path(service).string() : "127.0.0.1:" + std::to_string(port);
}

void System::add_listen_unix(std::vector<std::string>& args, const std::string& service) const {
  if (rpc_over_unix_) args.insert(args.end(), {"--listen_unix", socket_path(service).string()});
}

System::System(SystemOptions options) : rpc_over_unix_(options.rpc_over_unix) {
  const auto& certs = dev_certs();
  auto ready = dir_.path() / "identity.ready";
  std::vector<std::string> identity_args = {
      "--listen", "127.0.0.1:0", "--tls_ca", certs.ca().string(), "--tls_cert", certs.cert("identity").string(),
       "--tls_key", certs.key("identity").string(), "--database", (dir_.path() / "identity.db").string(),
       "--redis", redis_.host_port(), "--token_signing_key", certs.token_key().string(),
       "--operator_token_file", certs.operator_token_file().string(), "--insecure_scrypt_log2_n_for_tests", "12",
       "--ready_file", ready.string()};
  if (!options.identity_flags.count("kek_file") && !options.identity_flags.count("kek_command"))
    identity_args.insert(identity_args.end(), {"--kek_file", certs.kek_file().string()});
  add_redis_login(identity_args, "identity");
  add_listen_unix(identity_args, "identity");
  // identity and scheduling run two RPC I/O threads in every test, whatever the machine.
  if (!options.identity_flags.count("threads")) identity_args.insert(identity_args.end(), {"--threads", "2"});
  append_flags(identity_args, options.identity_flags);
  identity_start_ = Process::Options{binary("services/identity/alliance-identity"), identity_args, {},
                                     dir_.path() / "identity.log", {}};
  identity_ = Process::start(identity_start_);
  identity_port_ = static_cast<std::uint16_t>(wait_for_ready_file(ready, 20s, &*identity_).at("rpc_port"));
  auto scheduling_ready = dir_.path() / "scheduling.ready";
  std::vector<std::string> scheduling_args = {
      "--listen", "127.0.0.1:0", "--tls_ca", certs.ca().string(), "--tls_cert", certs.cert("scheduling").string(),
      "--tls_key", certs.key("scheduling").string(), "--database", (dir_.path() / "scheduling.db").string(),
      "--redis", redis_.host_port(), "--identity", rpc_address("identity", identity_port_),
      "--ready_file", scheduling_ready.string()};
  if (!options.scheduling_flags.count("kek_file") && !options.scheduling_flags.count("kek_command"))
    scheduling_args.insert(scheduling_args.end(), {"--kek_file", certs.kek_file().string()});
  add_redis_login(scheduling_args, "scheduling");
  add_listen_unix(scheduling_args, "scheduling");
  if (!options.scheduling_flags.count("threads")) scheduling_args.insert(scheduling_args.end(), {"--threads", "2"});
  append_flags(scheduling_args, options.scheduling_flags);
  scheduling_start_ = Process::Options{binary("services/scheduling/alliance-scheduling"), scheduling_args, {},
                                       dir_.path() / "scheduling.log", {}};
  scheduling_ = Process::start(scheduling_start_);
  scheduling_port_ =
      static_cast<std::uint16_t>(wait_for_ready_file(scheduling_ready, 20s, &*scheduling_).at("rpc_port"));
  messaging_flags_ = options.messaging_flags;
  start_messaging(0);
  for (auto& flags : options.reminders) reminders_.push_back(RemindersInstance{flags, std::nullopt, 0, 0});
  for (std::size_t i = 0; i < reminders_.size(); ++i) start_reminders(i);
  gateway_reminders_ = options.gateway_reminders;
  start_gateway();
}

void System::start_reminders(std::size_t i) {
  const auto& certs = dev_certs();
  auto& r = reminders_.at(i);
  ++r.starts;
  const std::string name = "reminders" + std::to_string(i) + "-" + std::to_string(r.starts);
  auto ready = dir_.path() / (name + ".ready");
  std::vector<std::string> args = {
      "--listen", "127.0.0.1:" + std::to_string(r.port), "--tls_ca", certs.ca().string(), "--tls_cert",
      certs.cert("reminders").string(), "--tls_key", certs.key("reminders").string(), "--database",
      reminders_database().string(), "--redis", redis_.host_port(), "--identity",
      rpc_address("identity", identity_port_), "--scheduling", rpc_address("scheduling", scheduling_port_),
      "--instance", "reminders-" + std::to_string(i), "--ready_file", ready.string()};
  add_redis_login(args, "reminders");
  add_listen_unix(args, "reminders" + std::to_string(i));
  append_flags(args, r.flags);
  r.process = Process::start(Process::Options{binary("services/reminders/alliance-reminders"), args, {},
                                              dir_.path() / (name + ".log"), {}});
  r.port = static_cast<std::uint16_t>(wait_for_ready_file(ready, 20s, &*r.process).at("rpc_port"));
}

void System::kill_reminders(std::size_t i) {
  auto& r = reminders_.at(i);
  if (r.process) r.process->kill9();
}

void System::stop_reminders(std::size_t i) {
  auto& r = reminders_.at(i);
  if (r.process && r.process->running()) r.process->terminate();
}

void System::start_messaging(std::uint16_t port) {
  const auto& certs = dev_certs();
  ++messaging_starts_;
  auto ready = dir_.path() / ("messaging" + std::to_string(messaging_starts_) + ".ready");
  std::vector<std::string> args = {
      "--listen", "127.0.0.1:" + std::to_string(port), "--tls_ca", certs.ca().string(), "--tls_cert",
      certs.cert("messaging").string(), "--tls_key", certs.key("messaging").string(), "--database",
      (dir_.path() / "messaging.db").string(), "--redis", redis_.host_port(), "--identity",
      rpc_address("identity", identity_port_), "--ready_file", ready.string()};
  add_redis_login(args, "messaging");
  add_listen_unix(args, "messaging");
  append_flags(args, messaging_flags_);
  // Each start writes its own log file (messaging1.log, messaging2.log, ...).
  messaging_ = Process::start(Process::Options{binary("services/messaging/alliance-messaging"), args, {},
                                               dir_.path() / ("messaging" + std::to_string(messaging_starts_) + ".log"),
                                               {}});
  messaging_port_ = static_cast<std::uint16_t>(wait_for_ready_file(ready, 20s, &*messaging_).at("rpc_port"));
}

void System::kill_messaging() {
  if (messaging_) messaging_->kill9();
}

void System::restart_messaging() {
  if (messaging_ && messaging_->running()) messaging_->terminate();
  start_messaging(messaging_port_);
}

System::~System() {
  for (auto& g : gateways_) g.terminate();
  for (auto& r : reminders_)
    if (r.process) r.process->terminate();
  if (messaging_) messaging_->terminate();
  if (scheduling_) scheduling_->terminate();
  if (identity_) identity_->terminate();
}

std::uint16_t System::start_gateway(const GatewayFlags& flags) {
  const auto& certs = dev_certs();
  auto n = gateways_.size();
  auto ready = dir_.path() / ("gateway" + std::to_string(n) + ".ready");
  std::string cert = flags.rpc_identity == "rogue" ? certs.rogue_cert().string()
                                                   : certs.cert(flags.rpc_identity).string();
  std::string key = flags.rpc_identity == "rogue" ? certs.rogue_key().string()
                                                  : certs.key(flags.rpc_identity).string();
  std::vector<std::string> args = {
      "--listen", "127.0.0.1:0", "--tls_cert", certs.public_cert().string(), "--tls_key",
      certs.public_key().string(), "--rpc_ca", certs.ca().string(), "--rpc_cert", cert, "--rpc_key", key,
      "--identity", rpc_address("identity", identity_port_),
      "--scheduling", rpc_address("scheduling", scheduling_port_),
      "--messaging", rpc_address("messaging", messaging_port_), "--redis", redis_.host_port(),
      "--reminders",
      reminders_.empty() ? "127.0.0.1:1"
                         : rpc_address("reminders" + std::to_string(gateway_reminders_),
                                       reminders_.at(gateway_reminders_).port),
      "--metrics_listen", "127.0.0.1:0", "--ready_file", ready.string()};
  add_redis_login(args, "gateway");
  append_flags(args, flags.flags);
  gateways_.push_back(Process::start(
      Process::Options{binary("services/gateway/alliance-gateway"), args, {},
                       dir_.path() / ("gateway" + std::to_string(n) + ".log"), {}}));
  auto ports = wait_for_ready_file(ready, 20s, &gateways_.back());
  auto port = static_cast<std::uint16_t>(ports.at("https_port"));
  gateway_ports_.push_back(port);
  operator_ports_.push_back(static_cast<std::uint16_t>(ports.at("metrics_port")));
  // Ready means Redis, identity and scheduling answer and token keys are loaded.
  if (flags.rpc_identity == "gateway") {
    client::HttpsClient http(endpoint(n));
    bool ok = wait_until(
        [&] {
          auto r = http.request("GET", "/readyz", {}, {}, 2s);
          return r && r->status == 200;
        },
        20s);
    if (!ok) throw std::runtime_error("gateway never became ready:\n" + gateways_.back().log());
  }
  return port;
}

client::Endpoint System::endpoint(std::size_t gateway) const {
  return client::Endpoint{"127.0.0.1", gateway_ports_.at(gateway), dev_certs().ca()};
}

client::Endpoint System::operator_endpoint(std::size_t gateway) const {
  return client::Endpoint{"127.0.0.1", operator_ports_.at(gateway), dev_certs().ca()};
}

void System::move_appointment_back(const std::string& id, std::chrono::seconds by) {
  auto db = store::Connection::open(dir() / "scheduling.db", {});
  store::execute(*db, "UPDATE appointments SET start_unix = start_unix - ?2, end_unix = end_unix - ?2 WHERE id = ?1", id,
                 static_cast<std::int64_t>(by.count()));
}

std::string System::operator_token() const {
  std::ifstream f(dev_certs().operator_token_file());
  std::string token;
  f >> token;
  return token;
}

std::string System::create_practice(const std::string& slug) {
  client::AllianceClient c(endpoint());
  json::value body = {{"operator_token", operator_token()},
                      {"name", "Practice " + slug},
                      {"slug", slug},
                      {"admin_email", "admin@" + slug + ".example"},
                      {"admin_password", kPassword},
                      {"admin_display_name", "Admin"}};
  auto r = c.call_json("POST", "/v1/practices", &body, false);
  if (!r) throw std::runtime_error("create practice failed: " + r.error().message);
  return std::string(r->at("practice").at("id").as_string());
}

std::string System::create_user(const std::string& slug, const std::string& email, const std::string& role) {
  auto admin = login(slug, "admin@" + slug + ".example");
  json::value body = {{"email", email}, {"password", kPassword}, {"display_name", email}, {"role", role}};
  auto r = admin->post_json("/v1/users", body);
  if (!r) throw std::runtime_error("create user failed: " + r.error().message);
  return std::string(r->at("user").at("id").as_string());
}

std::unique_ptr<client::AllianceClient> System::login(const std::string& slug, const std::string& email,
                                                      std::size_t gateway) {
  auto c = std::make_unique<client::AllianceClient>(endpoint(gateway));
  auto t = c->login(slug, email, kPassword);
  if (!t) throw std::runtime_error("login failed: " + t.error().message);
  return c;
}

void System::publish_push(const std::string& user_id, const std::string& type, const std::string& text) {
  publish_pushes(user_id, type, text, 1);
}

void System::publish_pushes(const std::string& user_id, const std::string& type, const std::string& text,
                            int count) {
  push::v1::PushFrame frame;
  frame.set_type(type);
  push::v1::Notice notice;
  notice.set_text(text);
  frame.mutable_body()->PackFrom(notice);

  asio::io_context io;
  // As a service that publishes pushes does (the gateway's user may not publish).
  redis::Client client(io.get_executor(), redis_login(redis_, "messaging"));
  client.start();
  Status result = make_error(Code::kUnavailable, "not run");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        if (!co_await client.wait_connected(5s)) {
          result = make_error(Code::kUnavailable, "redis not reachable");
        } else {
          result = Status{};
          for (int i = 0; i < count && result; ++i) {
            frame.set_id(new_id());
            frame.set_sent_unix_ms(now_unix_ms());
            result = co_await redis::publish_push(client, user_id, frame);
          }
        }
        client.stop();
      },
      asio::detached);
  io.run_for(10s + std::chrono::milliseconds(10) * count);
  if (!result) throw std::runtime_error("publish failed: " + result.error().message);
}

}  // namespace alliance::testing
