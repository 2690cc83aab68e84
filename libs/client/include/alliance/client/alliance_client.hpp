#pragma once
// The typed SDK a client app, the admin CLI, tests and load tools use to talk
// to the gateway's public API (JSON over HTTPS, pushes over WSS).
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/client/endpoint.hpp"
#include "alliance/client/https_client.hpp"
#include "alliance/client/web_socket.hpp"
#include "alliance/core/result.hpp"

namespace alliance::client {

// A login whose password was right and whose second step is due (TwoFactorChallenge):
// complete_two_factor() with a code, after enrol_with_challenge() when
// enrolment_required. Secret like a password: never log it.
struct TwoFactorChallenge {
  std::string challenge;
  std::int64_t expires_unix_ms = 0;
  bool enrolment_required = false;
};

// What login and refresh return. Secrets: never log access_token or refresh_token.
struct Tokens {
  std::string access_token, refresh_token;
  std::int64_t expires_in = 0;  // seconds, as the server said at issue time
  std::string user_id, practice_id, role;
  // login() only: set, with the tokens empty, when a second step is due.
  std::optional<TwoFactorChallenge> two_factor;
  // Only when the second step completed an enrolment: the recovery codes, shown once.
  std::vector<std::string> recovery_codes;
};

// A non-2xx response as an Error: code from the body's {"error":{"code"}}
// string (or from the status when the body has none), message and field from
// the body, retry_after from the Retry-After header (seconds), and detail the
// body's "detail" object as JSON text (e.g. a stale-device refusal's current recipients).
Error error_from_response(const HttpResponse& response);
// The Code an HTTP status stands for (400 -> kInvalidArgument, 401 ->
// kUnauthenticated, 404 -> kNotFound, 409 -> kAlreadyExists, 429 ->
// kResourceExhausted, 503 -> kUnavailable, 504 -> kDeadlineExceeded, ...).
Code code_from_status(int status);
// The Code named by an error body's "code" string ("not_found"); nullopt if unknown.
std::optional<Code> code_from_name(std::string_view name);
// "TokenResponse" JSON -> Tokens (int64 as string or number); kInternal if malformed.
Result<Tokens> tokens_from_json(const boost::json::value& v);
// Percent-encodes a query parameter value.
std::string url_encode(std::string_view s);
// The "exp" of an access token (seconds since the Unix epoch), read without
// verifying the token (the gateway does that); 0 if it cannot be read. A push socket
// is closed with 4401 at this moment unless it was given a fresh token.
std::int64_t access_token_expires_at(std::string_view access_token);
// The frame that hands a push socket a fresh access token: {"type":"auth","access_token":...}.
std::string auth_frame(std::string_view access_token);

// One user's session against one gateway: one keep-alive HTTPS connection plus
// the current tokens. Blocking, one thread at a time (like HttpsClient).
class AllianceClient {
 public:
  explicit AllianceClient(Endpoint ep);

  // POST /v1/auth/login; stores and returns the tokens, or (stores nothing and)
  // returns Tokens with only two_factor and the user set when a second step is due.
  Result<Tokens> login(std::string_view practice, std::string_view email, std::string_view password);
  // POST /v1/auth/two-factor: the second step with a TOTP or recovery code; stores and
  // returns the tokens (and, after an enrolment, the recovery codes).
  Result<Tokens> complete_two_factor(std::string_view challenge, std::string_view code);
  // POST /v1/auth/two-factor/enroll: a secret for a challenge that says
  // enrolment_required -> TwoFactorEnrolmentResponse {enrolment: {otpauth_uri, qr_text, secret_base32}}.
  Result<boost::json::value> enrol_with_challenge(std::string_view challenge);
  // POST /v1/auth/refresh with the stored refresh token; stores and returns the new pair.
  Result<Tokens> refresh();
  // POST /v1/auth/logout with the access token; the stored tokens are cleared on success.
  Status logout();

  void set_tokens(Tokens t);
  const Tokens& tokens() const;

  // When on (off by default), a 401 to a request made with the access token
  // triggers one refresh() and one retry; `on_refresh` (if set) sees the new tokens
  // so a caller can persist them. If the refresh fails the original 401 is returned.
  void set_auto_refresh(bool on, std::function<void(const Tokens&)> on_refresh = {});

  // GET /v1/me -> GetMeResponse {user, practice}.
  Result<boost::json::value> me();

  // JSON calls with the current access token (none if empty). 2xx -> the
  // parsed body ({} for an empty body); other statuses -> error_from_response.
  Result<boost::json::value> get_json(std::string_view target);
  Result<boost::json::value> post_json(std::string_view target, const boost::json::value& body);
  Result<boost::json::value> put_json(std::string_view target, const boost::json::value& body);
  // Any method; `bearer` false sends no Authorization header (e.g. /v1/practices).
  Result<boost::json::value> call_json(std::string_view method, std::string_view target,
                                       const boost::json::value* body, bool bearer = true);

  // GET /v1/ws with the access token; returns once the "session.ready" frame
  // has arrived (so every push published afterwards will be received).
  // A refused upgrade -> its Error; closed before ready -> kUnauthenticated for
  // 4401 else kUnavailable; no ready frame in time -> kDeadlineExceeded.
  Result<std::unique_ptr<WebSocket>> open_push_socket(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // refresh() (on_refresh sees the new tokens too), then the new access token sent
  // over `socket` (auth_frame), so the gateway keeps the socket open past the old
  // token's expiry. The gateway answers on the socket {"type":"auth.ok",
  // "expires_unix_ms":...} or {"type":"auth.error","error":{...}}.
  Result<Tokens> refresh_push_socket(WebSocket& socket);

  HttpsClient& http();
  const Endpoint& endpoint() const;

  // Per-request timeout for the JSON calls (default 10 s).
  void set_timeout(std::chrono::milliseconds t);

 private:
  Result<boost::json::value> call_once(std::string_view method, std::string_view target,
                                       const std::string& body, bool bearer, int* status);
  Result<Tokens> token_call(std::string_view target, const boost::json::value& body);

  Endpoint ep_;
  HttpsClient http_;
  Tokens tokens_;
  bool auto_refresh_ = false;
  std::function<void(const Tokens&)> on_refresh_;
  std::chrono::milliseconds timeout_{std::chrono::seconds(10)};
};

}  // namespace alliance::client
