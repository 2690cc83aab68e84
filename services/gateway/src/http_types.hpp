#pragma once
// What the gateway's request handling sees of HTTP, free of Beast types so the
// logic compiles fast and tests build it directly.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alliance/core/result.hpp"

namespace alliance::gateway {

struct HttpRequestView {
  std::string_view method;          // "GET"
  std::string_view target;          // "/v1/users?role=client"
  std::string_view authorization;   // the Authorization header, if any
  std::string_view if_none_match;   // the If-None-Match header, if any
  std::string_view body;
  std::string remote_address;       // the client's IP address
  std::string request_id;           // X-Request-Id of the answer (new_unique_id()); made if empty
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The one place an Error becomes an HTTP status and body:
// {"error":{"code":"invalid_argument","message":"...","field":"..."}}.
int http_status(Code code);
// What a client is told about `error`. Unavailable, deadline exceeded and internal
// errors carry internal detail (hosts, ports, OS and TLS library text, SQL): their
// public message is fixed, and the detail belongs in the log under the request id.
std::string_view public_message(const Error& error);
// True for the errors public_message() hides.
bool hides_detail(Code code);
// `detail_json`, if not empty, is added as the error's "detail" (a JSON object).
// 429, 503 and 504 carry Retry-After (whole seconds, at least 1).
HttpReply error_reply(const Error& error, std::string_view detail_json = {});
HttpReply error_reply(int status, std::string_view code, std::string_view message);

// Appends the HTTP/1.x response for `reply` to `out`: status line, Server, Content-Type,
// Cache-Control: no-store unless the reply sets its own, reply.headers (a name or value
// holding CR or LF is dropped),
// Content-Length, Connection as `keep_alive` and `version` (10 or 11) need, and the body.
void write_response(const HttpReply& reply, unsigned version, bool keep_alive, std::string& out);
// Gives `reply` its X-Request-Id header and, when its body is an error object,
// "request_id" inside "error". Does nothing if the reply already has one.
void stamp_request_id(HttpReply& reply, std::string_view request_id);

// Splits "/path?query" into its parts.
std::pair<std::string_view, std::string_view> split_target(std::string_view target);
// The token of "Bearer <token>" (case-insensitive scheme), or empty.
std::string_view bearer_token(std::string_view authorization);

}  // namespace alliance::gateway
