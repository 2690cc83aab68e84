#include "http_types.hpp"

#include "alliance/core/log.hpp"

namespace alliance::gateway {

int http_status(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kFailedPrecondition: return 409;
    case Code::kResourceExhausted: return 429;
    case Code::kUnavailable: return 503;
    case Code::kDeadlineExceeded: return 504;
    case Code::kInternal: return 500;
  }
  return 500;
}

HttpReply error_reply(int status, std::string_view code, std::string_view message) {
  HttpReply r;
  r.status = status;
  r.body = "{\"error\":{\"code\":";
  log::append_json_string(r.body, code);
  r.body += ",\"message\":";
  log::append_json_string(r.body, message);
  r.body += "}}";
  return r;
}

HttpReply error_reply(const Error& error, std::string_view detail_json) {
  HttpReply r;
  r.status = http_status(error.code);
  // Internal details never reach a client.
  std::string_view message = error.code == Code::kInternal ? "internal error" : std::string_view(error.message);
  r.body = "{\"error\":{\"code\":";
  log::append_json_string(r.body, code_name(error.code));
  r.body += ",\"message\":";
  log::append_json_string(r.body, message);
  if (!error.field.empty()) {
    r.body += ",\"field\":";
    log::append_json_string(r.body, error.field);
  }
  if (!detail_json.empty() && error.code != Code::kInternal) {
    r.body += ",\"detail\":";
    r.body += detail_json;
  }
  r.body += "}}";
  if (error.code == Code::kResourceExhausted && error.retry_after.count() > 0) {
    auto secs = (error.retry_after.count() + 999) / 1000;
    r.headers.emplace_back("Retry-After", std::to_string(secs));
  }
  if (error.code == Code::kUnauthenticated) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::string_view bearer_token(std::string_view authorization) {
  if (authorization.size() < 7) return {};
  auto scheme = authorization.substr(0, 7);
  for (size_t i = 0; i < 6; ++i)
    if ((scheme[i] | 0x20) != "bearer"[i]) return {};
  if (scheme[6] != ' ') return {};
  auto token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

}  // namespace alliance::gateway
