#include "http_types.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cstdint>

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

bool hides_detail(Code code) {
  return code == Code::kInternal || code == Code::kUnavailable || code == Code::kDeadlineExceeded;
}

std::string_view public_message(const Error& error) {
  if (error.code == Code::kInternal) return "internal error";
  if (hides_detail(error.code)) return "temporarily unavailable";
  return error.message;
}

HttpReply error_reply(const Error& error, std::string_view detail_json) {
  HttpReply r;
  r.status = http_status(error.code);
  const bool hidden = hides_detail(error.code);
  r.body = "{\"error\":{\"code\":";
  log::append_json_string(r.body, code_name(error.code));
  r.body += ",\"message\":";
  log::append_json_string(r.body, public_message(error));
  if (!error.field.empty() && !hidden) {
    r.body += ",\"field\":";
    log::append_json_string(r.body, error.field);
  }
  if (!detail_json.empty() && !hidden) {
    r.body += ",\"detail\":";
    r.body += detail_json;
  }
  r.body += "}}";
  const bool says_when = error.code == Code::kResourceExhausted ? error.retry_after.count() > 0
                                                                 : r.status == 503 || r.status == 504;
  if (says_when) {
    auto secs = std::max<std::int64_t>(1, (error.retry_after.count() + 999) / 1000);
    r.headers.emplace_back("Retry-After", std::to_string(secs));
  }
  if (error.code == Code::kUnauthenticated) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

void write_response(const HttpReply& reply, unsigned version, bool keep_alive, std::string& out) {
  auto clean = [](std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; };
  const auto status = static_cast<boost::beast::http::status>(reply.status);
  const auto reason = boost::beast::http::obsolete_reason(status);
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(reply.status);
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\nServer: alliance\r\nContent-Type: ";
  if (clean(reply.content_type)) out += reply.content_type;
  out += "\r\n";
  // Answers are private and not cached unless the reply says otherwise (static files
  // revalidate with their ETag): one Cache-Control header, never two.
  const bool own_cache_control = std::any_of(reply.headers.begin(), reply.headers.end(), [](const auto& h) {
    return boost::beast::iequals(h.first, "Cache-Control");
  });
  if (!own_cache_control) out += "Cache-Control: no-store\r\n";
  for (const auto& [name, value] : reply.headers) {
    if (name.empty() || !clean(name) || !clean(value)) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!keep_alive && version >= 11) out += "Connection: close\r\n";
  if (keep_alive && version < 11) out += "Connection: keep-alive\r\n";
  // 1xx, 204 and 304 answers have no body and no length (RFC 9110 8.6).
  if (reply.status < 200 || reply.status == 204 || reply.status == 304) {
    out += "\r\n";
    return;
  }
  out += "Content-Length: ";
  out += std::to_string(reply.body.size());
  out += "\r\n\r\n";
  out += reply.body;
}

void stamp_request_id(HttpReply& reply, std::string_view request_id) {
  constexpr std::string_view kHeader = "X-Request-Id";
  for (const auto& [name, value] : reply.headers)
    if (name == kHeader) return;
  reply.headers.emplace_back(std::string(kHeader), std::string(request_id));
  constexpr std::string_view kErrorStart = "{\"error\":{";
  const std::string_view body = reply.body;
  if (reply.status < 400 || !body.starts_with(kErrorStart) || !body.ends_with("}}")) return;
  std::string field = ",\"request_id\":";
  log::append_json_string(field, request_id);
  reply.body.insert(reply.body.size() - 2, field);
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
