#include "alliance/client/alliance_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>

#include "alliance/crypto/encoding.hpp"

namespace alliance::client {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::string_view status_text(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string string_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

// proto3 JSON int64: a string on output, a number accepted too.
std::optional<std::int64_t> int64_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  const json::value& v = it->value();
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.as_uint64());
  }
  if (v.is_string()) {
    std::string_view s = v.as_string();
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && end == s.data() + s.size()) return out;
  }
  return std::nullopt;
}

// Retry-After in delta-seconds ("2", also "1.5"); HTTP dates are not used by the gateway.
std::chrono::milliseconds parse_retry_after(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return std::chrono::milliseconds(0);
  double seconds = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
  if (ec != std::errc() || end != s.data() + s.size() || !(seconds >= 0) || seconds > 1e9) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

bool printable_line(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\t') return false;
  }
  return true;
}

}  // namespace

Code code_from_status(int status) {
  switch (status) {
    case 400: return Code::kInvalidArgument;
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kPermissionDenied;
    case 404: return Code::kNotFound;
    case 409: return Code::kAlreadyExists;
    case 412: return Code::kFailedPrecondition;
    case 429: return Code::kResourceExhausted;
    case 503: return Code::kUnavailable;
    case 408:
    case 504: return Code::kDeadlineExceeded;
    default: break;
  }
  if (status >= 400 && status < 500) return Code::kInvalidArgument;  // 413, 414, 431, ...
  return Code::kInternal;
}

std::optional<Code> code_from_name(std::string_view name) {
  static constexpr Code kAll[] = {
      Code::kOk,           Code::kInvalidArgument,    Code::kNotFound,         Code::kAlreadyExists,
      Code::kFailedPrecondition, Code::kPermissionDenied, Code::kUnauthenticated, Code::kResourceExhausted,
      Code::kUnavailable,  Code::kInternal,           Code::kDeadlineExceeded,
  };
  for (Code c : kAll) {
    if (code_name(c) == name) return c;
  }
  return std::nullopt;
}

Error error_from_response(const HttpResponse& response) {
  Error err;
  err.code = code_from_status(response.status);
  if (response.status >= 200 && response.status < 300) {
    err.code = Code::kInternal;
    err.message = "unexpected success status " + std::to_string(response.status);
    return err;
  }
  err.message = "HTTP " + std::to_string(response.status);
  if (auto text = status_text(response.status); !text.empty()) err.message += " " + std::string(text);

  boost::system::error_code ec;
  json::value body = json::parse(response.body, ec);
  const json::object* error_obj = nullptr;
  if (!ec && body.is_object()) {
    if (auto* e = body.as_object().if_contains("error"); e && e->is_object()) error_obj = &e->as_object();
  }
  if (error_obj) {
    if (auto code = code_from_name(string_field(*error_obj, "code")); code && *code != Code::kOk) err.code = *code;
    if (auto msg = string_field(*error_obj, "message"); !msg.empty()) err.message = std::move(msg);
    err.field = string_field(*error_obj, "field");
    if (auto* detail = error_obj->if_contains("detail"); detail && detail->is_object()) {
      err.detail = json::serialize(*detail);
    }
  } else if (ec && !response.body.empty() && response.body.size() <= 200) {
    // A short plain-text answer (e.g. from a proxy or the HTTP layer) says more than the status alone.
    std::string_view text = response.body;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
    if (!text.empty() && printable_line(text)) err.message += ": " + std::string(text);
  }
  err.retry_after = parse_retry_after(response.header("retry-after"));
  return err;
}

Result<Tokens> tokens_from_json(const json::value& v) {
  if (!v.is_object()) return make_error(Code::kInternal, "token response: not a JSON object");
  const auto& o = v.as_object();
  Tokens t;
  t.access_token = string_field(o, "access_token");
  t.refresh_token = string_field(o, "refresh_token");
  if (auto* c = o.if_contains("two_factor"); c && c->is_object()) {
    const auto& co = c->as_object();
    TwoFactorChallenge challenge{string_field(co, "challenge"), int64_field(co, "expires_unix_ms").value_or(0), false};
    if (auto* e = co.if_contains("enrolment_required"); e && e->is_bool()) challenge.enrolment_required = e->as_bool();
    if (challenge.challenge.empty()) return make_error(Code::kInternal, "token response: a two_factor without challenge");
    t.two_factor = std::move(challenge);
  } else if (t.access_token.empty()) {
    return make_error(Code::kInternal, "token response: no access_token");
  }
  if (auto* codes = o.if_contains("recovery_codes"); codes && codes->is_array())
    for (const auto& c : codes->as_array())
      if (c.is_string()) t.recovery_codes.emplace_back(c.as_string());
  t.expires_in = int64_field(o, "expires_in").value_or(0);
  if (auto* user = o.if_contains("user"); user && user->is_object()) {
    t.user_id = string_field(user->as_object(), "id");
    t.practice_id = string_field(user->as_object(), "practice_id");
    t.role = string_field(user->as_object(), "role");
  }
  return t;
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::int64_t access_token_expires_at(std::string_view access_token) {
  auto first = access_token.find('.');
  auto second = first == std::string_view::npos ? first : access_token.find('.', first + 1);
  if (second == std::string_view::npos) return 0;
  auto payload = crypto::base64url_decode(access_token.substr(first + 1, second - first - 1));
  if (!payload) return 0;
  boost::system::error_code ec;
  json::value v = json::parse(*payload, ec);
  if (ec || !v.is_object()) return 0;
  return int64_field(v.as_object(), "exp").value_or(0);
}

std::string auth_frame(std::string_view access_token) {
  return json::serialize(json::object{{"type", "auth"}, {"access_token", access_token}});
}

AllianceClient::AllianceClient(Endpoint ep) : ep_(ep), http_(std::move(ep)) {}

void AllianceClient::set_tokens(Tokens t) { tokens_ = std::move(t); }
const Tokens& AllianceClient::tokens() const { return tokens_; }
HttpsClient& AllianceClient::http() { return http_; }
const Endpoint& AllianceClient::endpoint() const { return ep_; }
void AllianceClient::set_timeout(std::chrono::milliseconds t) { timeout_ = t; }

void AllianceClient::set_auto_refresh(bool on, std::function<void(const Tokens&)> on_refresh) {
  auto_refresh_ = on;
  on_refresh_ = std::move(on_refresh);
}

Result<json::value> AllianceClient::call_once(std::string_view method, std::string_view target,
                                              const std::string& body, bool bearer, int* status) {
  std::string_view token = bearer ? std::string_view(tokens_.access_token) : std::string_view();
  auto res = http_.request(method, target, body, token, timeout_);
  if (!res) return std::move(res).error();
  *status = res->status;
  if (res->status < 200 || res->status >= 300) return error_from_response(*res);
  if (res->body.empty()) return json::value(json::object());
  boost::system::error_code ec;
  json::value v = json::parse(res->body, ec);
  if (ec) return make_error(Code::kInternal, "the gateway answered " + std::string(target) + " with invalid JSON");
  return v;
}

Result<json::value> AllianceClient::call_json(std::string_view method, std::string_view target,
                                              const json::value* body, bool bearer) {
  std::string text = body ? json::serialize(*body) : std::string();
  int status = 0;
  auto r = call_once(method, target, text, bearer, &status);
  if (!r && status == 401 && bearer && auto_refresh_ && !tokens_.refresh_token.empty()) {
    if (auto fresh = refresh(); fresh) {
      if (on_refresh_) on_refresh_(*fresh);
      r = call_once(method, target, text, bearer, &status);
    }
  }
  return r;
}

Result<json::value> AllianceClient::get_json(std::string_view target) {
  return call_json("GET", target, nullptr, true);
}

Result<json::value> AllianceClient::post_json(std::string_view target, const json::value& body) {
  return call_json("POST", target, &body, true);
}

Result<json::value> AllianceClient::put_json(std::string_view target, const json::value& body) {
  return call_json("PUT", target, &body, true);
}

Result<json::value> AllianceClient::me() { return get_json("/v1/me"); }

Result<Tokens> AllianceClient::token_call(std::string_view target, const json::value& body) {
  auto r = call_json("POST", target, &body, false);
  if (!r) return std::move(r).error();
  auto t = tokens_from_json(*r);
  if (!t) return t;
  // A refresh response may omit the user; keep who we already know we are.
  if (t->user_id.empty()) {
    t->user_id = tokens_.user_id;
    t->practice_id = tokens_.practice_id;
    t->role = tokens_.role;
  }
  // A challenge is not a session: the tokens held (none, at login) stay as they are.
  if (!t->two_factor) tokens_ = *t;
  return t;
}

Result<Tokens> AllianceClient::complete_two_factor(std::string_view challenge, std::string_view code) {
  json::object body;
  body["challenge"] = challenge;
  body["code"] = code;
  return token_call("/v1/auth/two-factor", body);
}

Result<json::value> AllianceClient::enrol_with_challenge(std::string_view challenge) {
  json::value body = json::object{{"challenge", challenge}};
  return call_json("POST", "/v1/auth/two-factor/enroll", &body, false);
}

Result<Tokens> AllianceClient::login(std::string_view practice, std::string_view email, std::string_view password) {
  json::object body;
  body["practice"] = practice;
  body["email"] = email;
  body["password"] = password;
  return token_call("/v1/auth/login", body);
}

Result<Tokens> AllianceClient::refresh() {
  if (tokens_.refresh_token.empty()) {
    return Error{Code::kUnauthenticated, "no refresh token: log in first", "refresh_token"};
  }
  json::object body;
  body["refresh_token"] = tokens_.refresh_token;
  return token_call("/v1/auth/refresh", body);
}

Status AllianceClient::logout() {
  json::value body = json::object();
  auto r = call_json("POST", "/v1/auth/logout", &body, true);
  if (!r) return std::move(r).error();
  tokens_ = Tokens{};
  return {};
}

Result<Tokens> AllianceClient::refresh_push_socket(WebSocket& socket) {
  auto fresh = refresh();
  if (!fresh) return fresh;
  if (on_refresh_) on_refresh_(*fresh);
  socket.send_text(auth_frame(fresh->access_token));
  if (socket.closed()) return make_error(Code::kUnavailable, "push socket closed before the fresh token was sent");
  return fresh;
}

Result<std::unique_ptr<WebSocket>> AllianceClient::open_push_socket(std::chrono::milliseconds timeout) {
  if (tokens_.access_token.empty()) return make_error(Code::kUnauthenticated, "not logged in");
  auto deadline = Clock::now() + timeout;
  auto ws = WebSocket::connect(ep_, "/v1/ws", tokens_.access_token, timeout);
  if (!ws && ws.error().code == Code::kUnauthenticated && auto_refresh_ && !tokens_.refresh_token.empty()) {
    if (auto fresh = refresh(); fresh) {
      if (on_refresh_) on_refresh_(*fresh);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      ws = WebSocket::connect(ep_, "/v1/ws", tokens_.access_token, std::max(left, std::chrono::milliseconds(1)));
    }
  }
  if (!ws) return ws;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    auto frame = (*ws)->read_text(left);
    if (!frame) {
      if (!(*ws)->closed()) break;
      int code = (*ws)->close_code();
      std::string why = "push socket closed before session.ready (code " + std::to_string(code);
      if (auto reason = (*ws)->close_reason(); !reason.empty()) why += ": " + reason;
      why += ")";
      return make_error(code == 4401 ? Code::kUnauthenticated : Code::kUnavailable, why);
    }
    boost::system::error_code ec;
    json::value v = json::parse(*frame, ec);
    if (!ec && v.is_object() && string_field(v.as_object(), "type") == "session.ready") return ws;
  }
  return make_error(Code::kDeadlineExceeded,
                    "push socket: no session.ready frame within " + std::to_string(timeout.count()) + " ms");
}

}  // namespace alliance::client
