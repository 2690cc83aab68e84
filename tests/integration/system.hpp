#pragma once
// The whole Alliance system started for a test: a real redis-server (TLS only, with
// ACL users, as deployed; every service logs in over TLS as its own user), the real
// alliance-identity, alliance-messaging, alliance-scheduling, alliance-reminders and alliance-gateway binaries as separate processes on free
// loopback ports, with development certificates and real TLS. Blocking; use
// from the test's main thread.
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "alliance/client/client.hpp"
#include "alliance/push/v1/push.pb.h"
#include "dev_certs.hpp"
#include "process.hpp"
#include "redis_server.hpp"

namespace alliance::testing {

struct GatewayFlags {
  std::map<std::string, std::string> flags;  // extra --key value flags
  std::string rpc_identity = "gateway";      // which dev cert it presents to identity ("rogue" for the untrusted one)
};

struct SystemOptions {
  // Extra --key value flags for alliance-identity (e.g. {"access_token_ttl", "4s"}).
  std::map<std::string, std::string> identity_flags;
  // Extra --key value flags for alliance-scheduling (e.g. {"waitlist_hold", "2s"}).
  std::map<std::string, std::string> scheduling_flags;
  // Extra --key value flags for alliance-messaging (e.g. {"send_rate_per_minute", "0"}).
  std::map<std::string, std::string> messaging_flags;
  // One alliance-reminders process per entry (sharing one database), each with its
  // extra --key value flags; the gateway talks to the first one unless
  // gateway_reminders says otherwise.
  std::vector<std::map<std::string, std::string>> reminders = {{}};
  std::size_t gateway_reminders = 0;
  // Every service also listens on a Unix-domain socket in the system's folder, and every
  // service-to-service client connects there (unix:PATH) instead of to 127.0.0.1.
  bool rpc_over_unix = false;
};

class System {
 public:
  explicit System(SystemOptions options = {});
  ~System();

  // Starts one more gateway against the same identity, scheduling and Redis; returns its port.
  std::uint16_t start_gateway(const GatewayFlags& flags = {});
  Process& gateway_process(std::size_t i) { return gateways_.at(i); }
  std::uint16_t gateway_port(std::size_t i = 0) const { return gateway_ports_.at(i); }
  client::Endpoint endpoint(std::size_t gateway = 0) const;
  // The gateway's operator listener (metrics_listen, on a free loopback port): /metrics.
  client::Endpoint operator_endpoint(std::size_t gateway = 0) const;

  RedisServer& redis() { return redis_; }
  Process& identity() { return *identity_; }
  Process& scheduling() { return *scheduling_; }
  Process& messaging() { return *messaging_; }
  // How identity and scheduling were started (binary, flags, log file), for a test that
  // stops one and starts it again differently (say, with another --kek_file).
  const Process::Options& identity_start() const { return identity_start_; }
  const Process::Options& scheduling_start() const { return scheduling_start_; }
  Process& reminders(std::size_t i = 0) { return *reminders_.at(i).process; }
  // SIGKILL of reminders instance i; stop (SIGTERM) and start again on the same port.
  void kill_reminders(std::size_t i = 0);
  void stop_reminders(std::size_t i = 0);
  void start_reminders(std::size_t i = 0);
  const std::filesystem::path reminders_database() const { return dir_.path() / "reminders.db"; }
  // SIGKILL of the messaging process (no chance to flush anything), and a start of
  // a new one on the same port and database; returns once it is ready.
  void kill_messaging();
  void restart_messaging();
  const std::filesystem::path& dir() const { return dir_.path(); }
  // Moves appointment `id` `by` into the past in the scheduling service's own database
  // file: what only waiting would otherwise give (an appointment that has started, so it
  // can be completed or marked a no-show). Slot searches already cached are not told.
  void move_appointment_back(const std::string& id, std::chrono::seconds by);
  std::string operator_token() const;

  // Creates a practice with an admin (password kPassword) through the public API.
  std::string create_practice(const std::string& slug);
  // Creates a user in the practice through the admin's API; returns the user id.
  std::string create_user(const std::string& slug, const std::string& email, const std::string& role);
  // Logs a user of `slug` in (password kPassword) on gateway `gateway`.
  std::unique_ptr<client::AllianceClient> login(const std::string& slug, const std::string& email,
                                                std::size_t gateway = 0);

  // Publishes a push for `user_id` through Redis exactly as a service would.
  void publish_push(const std::string& user_id, const std::string& type, const std::string& text);
  // Publishes `count` such pushes one after another over one Redis connection.
  void publish_pushes(const std::string& user_id, const std::string& type, const std::string& text, int count);

  static constexpr const char* kPassword = "correct horse battery staple";

 private:
  // Adds the flags that log a service in to redis_ as its ACL user `user`.
  void add_redis_login(std::vector<std::string>& args, const std::string& user) const;
  // Where a client reaches `service` ("identity", "reminders0", ...) on `port`:
  // 127.0.0.1:PORT, or unix:PATH with rpc_over_unix.
  std::string rpc_address(const std::string& service, std::uint16_t port) const;
  // With rpc_over_unix, adds --listen_unix for `service`'s socket.
  void add_listen_unix(std::vector<std::string>& args, const std::string& service) const;
  std::filesystem::path socket_path(const std::string& service) const { return dir_.path() / (service + ".sock"); }
  bool rpc_over_unix_ = false;
  TempDir dir_;
  RedisServer redis_;
  std::optional<Process> identity_;
  Process::Options identity_start_;
  Process::Options scheduling_start_;
  std::uint16_t identity_port_ = 0;
  std::optional<Process> scheduling_;
  std::uint16_t scheduling_port_ = 0;
  void start_messaging(std::uint16_t port);
  std::optional<Process> messaging_;
  std::uint16_t messaging_port_ = 0;
  std::map<std::string, std::string> messaging_flags_;
  int messaging_starts_ = 0;
  struct RemindersInstance {
    std::map<std::string, std::string> flags;
    std::optional<Process> process;
    std::uint16_t port = 0;
    int starts = 0;
  };
  std::vector<RemindersInstance> reminders_;
  std::size_t gateway_reminders_ = 0;
  std::vector<Process> gateways_;
  std::vector<std::uint16_t> gateway_ports_;
  std::vector<std::uint16_t> operator_ports_;
};

std::filesystem::path binary(const std::string& relative);  // under the build folder

}  // namespace alliance::testing
