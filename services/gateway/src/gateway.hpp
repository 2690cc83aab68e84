#pragma once
// The gateway's request logic, free of sockets: routes a public HTTP request to
// the owning service over RPC (JSON <-> protobuf), authenticates tokens locally,
// and owns the push hub that WebSocket sessions register with. Each I/O thread has
// its own (gateway_threads.hpp) and owns it; the Beast server (http_server.hpp) calls into it.
#include <chrono>
#include <map>
#include <memory>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "alliance/core/asio.hpp"
#include "alliance/net/rpc_client.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/redis/subscriber.hpp"
#include "http_types.hpp"
#include "metrics.hpp"
#include "push_hub.hpp"
#include "static_files.hpp"
#include "token_verifier.hpp"

namespace alliance::gateway {

struct GatewayOptions {
  std::string token_issuer = "alliance";
  std::string token_audience = "alliance-api";
  std::chrono::milliseconds rpc_timeout{5000};
  std::chrono::milliseconds key_refresh_interval{std::chrono::minutes(5)};
  SocketLimits ws_limits;
  // The front desk console served under /console/ (config console_dir); none if null.
  std::shared_ptr<const StaticFiles> console;
};

class Gateway {
 public:
  using Upstreams = std::map<std::string, net::RpcClient*, std::less<>>;
  Gateway(asio::any_io_executor ex, GatewayOptions options, Upstreams upstreams, redis::Client& redis);

  // The pub/sub connection that feeds the push hub (created by main with
  // on_message -> hub().on_message and on_reconnect -> resync_revocations()).
  void attach_subscriber(redis::Subscriber& subscriber);

  // Loads token keys and revoked sessions from identity (retrying until it
  // answers), then refreshes the keys periodically. Runs until the executor stops.
  asio::awaitable<void> run();
  // Re-reads revoked sessions from identity (after a Redis reconnect, when
  // revocations published meanwhile may have been missed).
  void resync_revocations();

  // A request on the public port: the API routes, /healthz, /readyz and the console. Every answer
  // carries X-Request-Id (request.request_id, or a new one), and so does an error
  // body; a failure whose detail is hidden is logged with the detail under it.
  asio::awaitable<HttpReply> handle(const HttpRequestView& request);
  // A request on the operator listener (metrics_listen): /metrics, /healthz and
  // /readyz; anything else is 404.
  asio::awaitable<HttpReply> handle_operator(const HttpRequestView& request);

  // For a WebSocket upgrade: the token from the Authorization header or the
  // access_token query parameter.
  Result<crypto::AccessClaims> authenticate(std::string_view authorization, std::string_view query);
  // Completes once Redis confirmed the user's push subscription (false on timeout).
  asio::awaitable<bool> wait_push_ready(const std::string& user_id, std::chrono::milliseconds timeout);

  // Ready when every gateway of the group is (its Redis, its token keys, each service).
  asio::awaitable<bool> ready();

  // The gateways of every I/O thread, in thread order, this one among them: /metrics adds
  // up their figures and /readyz asks each. Set before serving; none means just this one.
  void set_group(std::vector<Gateway*> group) { group_ = std::move(group); }

  // A text frame a client sent on its WebSocket. Understood:
  // - {"type":"ack","id":"<reminder_id or checkin_id>"}, acknowledged with the reminders service as
  //   the socket's user, answered {"type":"ack.ok","id":...} or {"type":"ack.error",
  //   "id":...,"error":{"code","message"}};
  // - {"type":"auth","access_token":"..."}, a fresh access token for the socket's own
  //   user and session, verified as a request's bearer token is: answered
  //   {"type":"auth.ok","expires_unix_ms":...} and its claims returned (the socket then
  //   stays open until that token expires), or {"type":"auth.error","error":{...}}
  //   (the socket keeps its old expiry).
  // A frame it cannot read is answered {"type":"error",...}. Answers go to `reply`,
  // which the caller makes safe to call after the socket is gone.
  std::optional<crypto::AccessClaims> on_socket_frame(rpc::v1::Caller caller, std::string text,
                                                      std::function<void(std::string)> reply);
  // The "reminder.due" and "checkin.due" frames a new socket gets right after
  // session.ready: the user's reminders that are sent and not acknowledged, and a
  // client's open check-ins whose push was not acknowledged (empty if reminders is not
  // configured or does not answer).
  asio::awaitable<std::vector<std::string>> pending_reminder_frames(rpc::v1::Caller caller);

  PushHub& hub() { return hub_; }
  TokenVerifier& tokens() { return tokens_; }
  Metrics& metrics() { return metrics_; }
  std::uint64_t http_connections_open = 0;  // maintained by the HTTP server

 private:
  asio::awaitable<HttpReply> dispatch(const HttpRequestView& request, const std::string& request_id);
  asio::awaitable<bool> load_keys();
  asio::awaitable<void> load_revocations();
  // A revoked session, on this thread: its tokens refused for a day, its sockets closed.
  void revoke_here(const std::string& session_id, std::int64_t now_ms);
  // A session signed out through this gateway: revoke_here on every thread of the group
  // at once (identity's broadcast over Redis reaches each thread later).
  void revoke_on_every_thread(const std::string& session_id);
  // "/metrics", "/readyz", else /healthz's answer.
  asio::awaitable<HttpReply> operations_reply(std::string_view path);
  asio::awaitable<HttpReply> metrics_reply();
  // This gateway's own figures, taken on its executor.
  struct Figures {
    Metrics metrics;
    Metrics::Gauges gauges;
  };
  asio::awaitable<Figures> figures();
  asio::awaitable<bool> ready_here();
  // Runs `work` (one of this gateway's coroutines) on its own executor.
  template <class T>
  asio::awaitable<T> on_own_thread(asio::awaitable<T> work);
  std::optional<crypto::AccessClaims> socket_auth(const rpc::v1::Caller& caller, const std::string& token,
                                                  const std::function<void(std::string)>& reply);

  asio::any_io_executor ex_;
  GatewayOptions options_;
  Upstreams upstreams_;
  redis::Client& redis_;
  redis::Subscriber* subscriber_ = nullptr;
  std::vector<Gateway*> group_;
  Metrics metrics_;
  TokenVerifier tokens_;
  PushHub hub_;
  rpc::v1::Caller caller_;  // the Caller of the request being sent (dispatch())
};

}  // namespace alliance::gateway
