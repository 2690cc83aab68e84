#include "gateway.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "alliance/api/openapi.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/identity/v1/identity.pb.h"
#include "alliance/push/v1/push.pb.h"
#include "alliance/reminders/v1/reminders.pb.h"
#include "alliance/redis/push.hpp"
#include "alliance/rpc/v1/rpc.pb.h"
#include "json_mapping.hpp"
#include "routes.hpp"
#include "socket_frames.hpp"

namespace alliance::gateway {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kIdentity = "identity";
constexpr std::string_view kReminders = "reminders";
constexpr std::string_view kLogoutMethod = "alliance.identity.v1.Identity/Logout";

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void spawn(asio::any_io_executor ex, asio::awaitable<void> work, std::string_view what) {
  asio::co_spawn(ex, std::move(work), [what = std::string(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("background task failed", {{"task", what}, {"error", ex.what()}});
    }
  });
}

// A response message with `content_type` and `body` fields served as they are.
HttpReply raw_reply(const Route& route, const google::protobuf::Message& response) {
  const auto* d = response.GetDescriptor();
  const auto* type = d->FindFieldByName("content_type");
  const auto* body = d->FindFieldByName("body");
  if (!type || !body) {
    log::error("raw route's response lacks content_type/body", {{"route", route.path}});
    return error_reply(Error{Code::kInternal, "internal error", {}});
  }
  const auto* r = response.GetReflection();
  return HttpReply{route.success_status, r->GetString(response, type), r->GetString(response, body), {}};
}

}  // namespace

Gateway::Gateway(asio::any_io_executor ex, GatewayOptions options, Upstreams upstreams, redis::Client& redis)
    : ex_(std::move(ex)),
      options_(std::move(options)),
      upstreams_(std::move(upstreams)),
      redis_(redis),
      tokens_(options_.token_issuer, options_.token_audience),
      hub_(PushHub::Hooks{
          [this](const std::string& ch) {
            if (subscriber_) subscriber_->subscribe(ch);
          },
          [this](const std::string& ch) {
            if (subscriber_) subscriber_->unsubscribe(ch);
          },
          [this](const std::string& sid, std::int64_t expires) {
            tokens_.revoke_session(sid, expires, now_unix_ms());
          }},
          options_.ws_limits) {
  // Read the routes and write the API document now: an annotation that cannot be a
  // route stops the gateway at start, not at its first request.
  (void)public_routes();
  (void)api::openapi_document();
}

void Gateway::attach_subscriber(redis::Subscriber& subscriber) {
  subscriber_ = &subscriber;
  subscriber_->subscribe(std::string(kRevocationChannel));
}

asio::awaitable<bool> Gateway::load_keys() {
  auto it = upstreams_.find(kIdentity);
  if (it == upstreams_.end()) co_return false;
  identity::v1::GetVerificationKeysRequest req;
  auto resp = co_await it->second->call<identity::v1::GetVerificationKeysResponse>(
      "alliance.identity.v1.Identity/GetVerificationKeys", req, rpc::v1::Caller{}, options_.rpc_timeout);
  if (!resp) {
    log::warn("cannot load token keys from identity", {{"error", resp.error().message}});
    co_return false;
  }
  crypto::KeySet keys;
  for (const auto& k : resp->keys()) keys[k.kid()] = k.ed25519_public_key();
  if (keys.empty()) co_return false;
  tokens_.set_keys(std::move(keys));
  co_return true;
}

asio::awaitable<void> Gateway::load_revocations() {
  auto it = upstreams_.find(kIdentity);
  if (it == upstreams_.end()) co_return;
  identity::v1::ListRevokedSessionsRequest req;
  auto resp = co_await it->second->call<identity::v1::ListRevokedSessionsResponse>(
      "alliance.identity.v1.Identity/ListRevokedSessions", req, rpc::v1::Caller{}, options_.rpc_timeout);
  if (!resp) {
    log::warn("cannot load revoked sessions from identity", {{"error", resp.error().message}});
    co_return;
  }
  auto now = now_unix_ms();
  for (const auto& sid : resp->session_ids()) revoke_here(sid, now);
}

void Gateway::revoke_here(const std::string& session_id, std::int64_t now_ms) {
  // Identity lists sessions revoked within one access-token lifetime; keep them a day,
  // past any of their tokens' expiry.
  tokens_.revoke_session(session_id, now_ms + 86'400'000, now_ms);
  hub_.close_session(session_id, "session revoked");
}

void Gateway::resync_revocations() { spawn(ex_, load_revocations(), "resync revocations"); }

asio::awaitable<void> Gateway::run() {
  asio::steady_timer timer(ex_);
  auto delay = std::chrono::milliseconds(100);
  while (!co_await load_keys()) {
    timer.expires_after(delay);
    co_await timer.async_wait(use_tuple);
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
  co_await load_revocations();
  log::info("token keys loaded");
  for (;;) {
    timer.expires_after(options_.key_refresh_interval);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    co_await load_keys();
  }
}

Result<crypto::AccessClaims> Gateway::authenticate(std::string_view authorization, std::string_view query) {
  std::string token(bearer_token(authorization));
  if (token.empty() && !query.empty()) {
    const std::string text = "?" + std::string(query);  // the parsed view points into it
    if (auto ref = boost::urls::parse_relative_ref(text)) {
      for (auto p : ref->params())
        if (p.key == "access_token") token = p.value;
    }
  }
  if (token.empty()) return Error{Code::kUnauthenticated, "missing access token", "authorization"};
  auto now = now_unix_ms() / 1000;
  return tokens_.verify(token, now);
}

asio::awaitable<bool> Gateway::wait_push_ready(const std::string& user_id, std::chrono::milliseconds timeout) {
  if (!subscriber_) co_return false;
  co_return co_await subscriber_->wait_subscribed(redis::push_channel(user_id), timeout);
}

asio::awaitable<bool> Gateway::ready_here() {
  if (!redis_.connected() || !subscriber_ || !subscriber_->connected() || !tokens_.has_keys()) co_return false;
  for (auto& [name, client] : upstreams_) {
    rpc::v1::HealthCheckRequest req;
    auto resp = co_await client->call<rpc::v1::HealthCheckResponse>("alliance.rpc.v1.Health/Check", req,
                                                                    rpc::v1::Caller{}, std::chrono::milliseconds(1000));
    if (!resp || !resp->ready()) co_return false;
  }
  co_return true;
}

template <class T>
asio::awaitable<T> Gateway::on_own_thread(asio::awaitable<T> work) {
  co_return co_await asio::co_spawn(ex_, std::move(work), asio::use_awaitable);
}

asio::awaitable<bool> Gateway::ready() {
  if (group_.empty()) co_return co_await ready_here();
  for (Gateway* g : group_) {
    auto work = g->ready_here();
    if (!co_await g->on_own_thread(std::move(work))) co_return false;
  }
  co_return true;
}

namespace {

std::string socket_error(std::string_view type, std::string_view id, std::string_view code, std::string_view message) {
  boost::json::object frame{{"type", type}};
  if (!id.empty()) frame["id"] = id;
  frame["error"] = boost::json::object{{"code", code}, {"message", message}};
  return boost::json::serialize(frame);
}

}  // namespace

std::optional<crypto::AccessClaims> Gateway::on_socket_frame(rpc::v1::Caller caller, std::string text,
                                                             std::function<void(std::string)> reply) {
  metrics_.count("ws_frames_received");
  auto parsed = parse_socket_frame(text);
  if (!parsed.frame) {
    reply(socket_error(parsed.refusal.reply_type, "", "invalid_argument", parsed.refusal.message));
    return std::nullopt;
  }
  if (parsed.frame->kind == SocketFrame::Kind::kAuth) return socket_auth(caller, parsed.frame->access_token, reply);
  std::string reminder_id = std::move(parsed.frame->id);
  auto upstream = upstreams_.find(kReminders);
  if (upstream == upstreams_.end()) {
    reply(socket_error("ack.error", reminder_id, "unavailable", "reminders are not available"));
    return std::nullopt;
  }
  auto call = [](net::RpcClient& reminders, rpc::v1::Caller caller, std::string reminder_id,
                 std::function<void(std::string)> reply, std::chrono::milliseconds timeout) -> asio::awaitable<void> {
    reminders::v1::AckReminderRequest req;
    req.set_reminder_id(reminder_id);
    auto resp = co_await reminders.call<reminders::v1::AckReminderResponse>(
        "alliance.reminders.v1.Reminders/AckReminder", req, caller, timeout);
    if (!resp) {
      if (hides_detail(resp.error().code))
        log::warn("upstream call failed", {{"service", "reminders"},
                                           {"method", "AckReminder"},
                                           {"code", code_name(resp.error().code)},
                                           {"error", resp.error().message}});
      reply(socket_error("ack.error", reminder_id, std::string(code_name(resp.error().code)),
                         public_message(resp.error())));
      co_return;
    }
    reply(boost::json::serialize(boost::json::object{{"type", "ack.ok"}, {"id", reminder_id}}));
  };
  spawn(ex_, call(*upstream->second, std::move(caller), std::move(reminder_id), std::move(reply), options_.rpc_timeout),
        "socket ack");
  return std::nullopt;
}

std::optional<crypto::AccessClaims> Gateway::socket_auth(const rpc::v1::Caller& caller, const std::string& token,
                                                         const std::function<void(std::string)>& reply) {
  // Exactly a request's check: signature, issuer, audience, expiry, revoked session.
  auto claims = tokens_.verify(token, now_unix_ms() / 1000);
  if (!claims) {
    reply(socket_error("auth.error", "", code_name(claims.error().code), "access_token: " + claims.error().message));
    return std::nullopt;
  }
  if (claims->subject != caller.user_id() || claims->session_id != caller.session_id()) {
    metrics_.count("ws_auth_refused");
    reply(socket_error("auth.error", "", "permission_denied",
                       "access_token: issued to another user or session than this socket's"));
    return std::nullopt;
  }
  reply(boost::json::serialize(boost::json::object{{"type", "auth.ok"}, {"expires_unix_ms", claims->expires_at * 1000}}));
  return std::move(*claims);
}

asio::awaitable<std::vector<std::string>> Gateway::pending_reminder_frames(rpc::v1::Caller caller) {
  std::vector<std::string> frames;
  auto upstream = upstreams_.find(kReminders);
  if (upstream == upstreams_.end()) co_return frames;
  reminders::v1::ListPendingRemindersRequest req;
  // Bounded tighter than other calls: a new socket's coroutine waits on it, and with
  // reminders down every connection would otherwise hold it for the full rpc_timeout.
  const auto timeout = std::min(options_.rpc_timeout, std::chrono::milliseconds(2000));
  auto resp = co_await upstream->second->call<reminders::v1::ListPendingRemindersResponse>(
      "alliance.reminders.v1.Reminders/DeliverPendingReminders", req, caller, timeout);
  if (!resp) {
    log::warn("cannot fetch pending reminders for a new socket", {{"error", resp.error().message}});
    co_return frames;
  }
  const auto now = now_unix_ms();
  for (const auto& due : resp->reminders()) {
    frames.push_back(message_to_json(redis::push_frame(due.reminder_id(), "reminder.due", now, due)));
  }
  // Session check-ins whose push the client has not acknowledged (only clients have any).
  if (caller.role() != "client") co_return frames;
  reminders::v1::ListPendingCheckinsRequest checkins_req;
  auto checkins = co_await upstream->second->call<reminders::v1::ListPendingCheckinsResponse>(
      "alliance.reminders.v1.Reminders/DeliverPendingCheckins", checkins_req, caller, timeout);
  if (!checkins) {
    log::warn("cannot fetch pending check-ins for a new socket", {{"error", checkins.error().message}});
    co_return frames;
  }
  for (const auto& due : checkins->checkins()) {
    frames.push_back(message_to_json(redis::push_frame(due.checkin_id(), "checkin.due", now, due)));
  }
  co_return frames;
}

asio::awaitable<Gateway::Figures> Gateway::figures() {
  Figures f;
  f.metrics = metrics_;
  f.gauges.ws_open = hub_.sockets();
  f.gauges.ws_users = hub_.users();
  f.gauges.http_connections_open = http_connections_open;
  f.gauges.pushes_delivered = hub_.delivered();
  f.gauges.token_cache_entries = tokens_.cached();
  co_return f;
}

asio::awaitable<HttpReply> Gateway::metrics_reply() {
  Metrics total;
  Metrics::Gauges gauges;
  std::vector<Metrics::ThreadFigures> threads;
  std::vector<Gateway*> members = group_;
  if (members.empty()) members.push_back(this);
  for (Gateway* g : members) {
    auto work = g->figures();
    Figures f = co_await g->on_own_thread(std::move(work));
    total.merge(f.metrics);
    gauges += f.gauges;
    threads.push_back(Metrics::ThreadFigures{f.metrics.http_requests(), f.gauges.ws_open});
  }
  HttpReply r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = total.render(gauges, threads);
  co_return r;
}

asio::awaitable<HttpReply> Gateway::operations_reply(std::string_view path) {
  if (path == "/metrics") co_return co_await metrics_reply();
  if (path == "/readyz") {
    bool ok = co_await ready();
    co_return HttpReply{ok ? 200 : 503, "text/plain", ok ? "ready\n" : "not ready\n", {}};
  }
  co_return HttpReply{200, "text/plain", "ok\n", {}};
}

asio::awaitable<HttpReply> Gateway::handle_operator(const HttpRequestView& request) {
  auto path = split_target(request.target).first;
  if (path == "/metrics" || path == "/healthz" || path == "/readyz") co_return co_await operations_reply(path);
  co_return error_reply(404, "not_found", "no such endpoint (this listener serves /metrics, /healthz and /readyz)");
}

asio::awaitable<HttpReply> Gateway::handle(const HttpRequestView& request) {
  std::string made_id;
  if (request.request_id.empty()) made_id = new_unique_id();
  const std::string& request_id = request.request_id.empty() ? made_id : request.request_id;
  HttpReply reply = co_await dispatch(request, request_id);
  stamp_request_id(reply, request_id);
  co_return reply;
}

asio::awaitable<HttpReply> Gateway::dispatch(const HttpRequestView& request, const std::string& request_id) {
  auto t0 = Clock::now();
  auto [path, query] = split_target(request.target);
  // Internal figures are for operators only: /metrics is served on metrics_listen.
  if (path == "/healthz" || path == "/readyz") co_return co_await operations_reply(path);
  if (options_.console && StaticFiles::owns(path)) {
    auto reply = options_.console->serve(request.method, path, request.if_none_match);
    metrics_.observe_http("console", reply.status, seconds_since(t0));
    co_return reply;
  }

  if (path == "/v1/openapi.json") {
    // The API's own description, written from the same .proto options as the routes; no token.
    if (request.method != "GET") {
      auto reply = error_reply(405, "method_not_allowed", "method not allowed; use GET");
      reply.headers.emplace_back("Allow", "GET");
      co_return reply;
    }
    metrics_.observe_http("/v1/openapi.json", 200, seconds_since(t0));
    co_return HttpReply{200, "application/json", api::openapi_document(), {}};
  }
  auto lookup = find_route(request.method, path);
  if (lookup.match == RouteMatch::kNoSuchPath) {
    metrics_.observe_http("unmatched", 404, seconds_since(t0));
    co_return error_reply(404, "not_found", "no such endpoint");
  }
  if (lookup.match == RouteMatch::kWrongMethod) {
    auto reply = error_reply(405, "method_not_allowed", "method not allowed; use " + lookup.allowed_methods);
    reply.headers.emplace_back("Allow", lookup.allowed_methods);
    metrics_.observe_http("method_not_allowed", 405, seconds_since(t0));
    co_return reply;
  }
  const Route& route = *lookup.route;
  auto finish = [&](HttpReply reply) {
    metrics_.observe_http(route.path, reply.status, seconds_since(t0));
    return reply;
  };

  const crypto::AccessClaims* claims = nullptr;
  if (route.requires_token) {
    auto token = bearer_token(request.authorization);
    if (token.empty())
      co_return finish(error_reply(Error{Code::kUnauthenticated, "missing bearer token", "authorization"}));
    auto checked = tokens_.check(token, now_unix_ms() / 1000);
    if (!checked) co_return finish(error_reply(checked.error()));
    claims = *checked;
  }
  // Copied now: `claims` is only valid until this thread checks another token.
  std::string signing_out;
  if (claims && route.rpc_method == kLogoutMethod) signing_out = claims->session_id;

  // The request's messages live in one arena: a few blocks instead of an allocation per
  // message and string object, all freed at once when the request is done.
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 2048;
  google::protobuf::Arena arena(arena_options);
  auto* message = new_message(route.request_type, arena);
  auto* response = new_message(route.response_type, arena);
  if (!message || !response) {
    log::error("route names an unknown message type", {{"route", route.path}});
    co_return finish(error_reply(Error{Code::kInternal, "internal error", {}}));
  }
  Status parsed = request.method == "GET" ? query_to_message(query, *message)
                                          : json_to_message(request.body, *message);
  if (!parsed) co_return finish(error_reply(parsed.error()));
  if (auto from_path = path_params_to_message(lookup.path_params, *message); !from_path)
    co_return finish(error_reply(from_path.error()));

  auto upstream = upstreams_.find(route.service);
  if (upstream == upstreams_.end())
    co_return finish(error_reply(Error{Code::kUnavailable, "service unavailable", {}}));

  // The caller's fields are copied into caller_, whose strings keep their storage from one
  // request to the next. call_raw reads it before it first suspends (RpcClient's contract),
  // so the next request on this thread may refill it while this one waits for its answer.
  caller_.Clear();
  caller_.set_source_address(request.remote_address);
  if (claims) {
    caller_.set_user_id(claims->subject);
    caller_.set_practice_id(claims->practice_id);
    caller_.set_role(claims->role);
    caller_.set_session_id(claims->session_id);
  }
  auto rpc_t0 = Clock::now();
  auto result = co_await upstream->second->call_raw(route.rpc_method, message->SerializeAsString(), caller_,
                                                    options_.rpc_timeout);
  metrics_.observe_rpc(route.service, route.rpc_method, result ? Code::kOk : result.error().code,
                       seconds_since(rpc_t0));
  if (!result) {
    if (hides_detail(result.error().code))
      log::warn("upstream call failed", {{"request_id", request_id},
                                         {"service", route.service},
                                         {"method", route.rpc_method},
                                         {"code", code_name(result.error().code)},
                                         {"error", result.error().message}});
    // A detail is a message of the route's response type; anything else is dropped.
    std::string detail_json;
    if (!result.error().detail.empty() && response->ParseFromString(result.error().detail))
      detail_json = message_to_json(*response);
    co_return finish(error_reply(result.error(), detail_json));
  }
  if (!response->ParseFromString(*result)) {
    log::error("upstream sent an unparsable response", {{"method", route.rpc_method}});
    co_return finish(error_reply(Error{Code::kInternal, "internal error", {}}));
  }
  if (!signing_out.empty()) revoke_on_every_thread(signing_out);
  if (route.raw_response) co_return finish(raw_reply(route, *response));
  co_return finish(HttpReply{route.success_status, "application/json", message_to_json(*response), {}});
}

void Gateway::revoke_on_every_thread(const std::string& session_id) {
  const std::int64_t now = now_unix_ms();
  if (group_.empty()) return revoke_here(session_id, now);
  for (Gateway* g : group_) {
    if (g == this)
      revoke_here(session_id, now);
    else
      asio::post(g->ex_, [g, session_id, now] { g->revoke_here(session_id, now); });
  }
}

}  // namespace alliance::gateway
