#include "alliance/api/http_routes.hpp"

#include <google/protobuf/descriptor.h>

#include <stdexcept>
#include <string_view>
#include <utility>

#include "alliance/api/v1/http.pb.h"
#include "alliance/identity/v1/identity.pb.h"
#include "alliance/messaging/v1/messaging.pb.h"
#include "alliance/reminders/v1/reminders.pb.h"
#include "alliance/scheduling/v1/scheduling.pb.h"

namespace alliance::api {
namespace {

namespace pb = google::protobuf;

[[noreturn]] void refuse(const pb::MethodDescriptor& m, const std::string& why) {
  throw std::runtime_error("(alliance.api.v1.http) of " + m.full_name() + ": " + why);
}

// "alliance.identity.v1" -> "identity", the upstream the gateway dials.
std::string service_of(const pb::MethodDescriptor& m) {
  const std::string& package = m.service()->file()->package();
  auto first = package.find('.');
  auto second = package.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) refuse(m, "package is not alliance.<service>.v1");
  return package.substr(first + 1, second - first - 1);
}

// Every "{field}" of the path names a string field of the request.
void check_path_fields(const pb::MethodDescriptor& m, std::string_view path) {
  if (path.empty() || path[0] != '/') refuse(m, "path must start with '/'");
  for (auto open = path.find('{'); open != std::string_view::npos; open = path.find('{', open + 1)) {
    auto close = path.find('}', open);
    if (close == std::string_view::npos) refuse(m, "unclosed '{' in path");
    std::string name(path.substr(open + 1, close - open - 1));
    const auto* field = m.input_type()->FindFieldByName(name);
    if (!field || field->type() != pb::FieldDescriptor::TYPE_STRING || field->is_repeated())
      refuse(m, "path parameter {" + name + "} is not a string field of " + m.input_type()->full_name());
  }
}

Route route_of(const pb::MethodDescriptor& m, const v1::HttpRule& rule) {
  Route r;
  const std::pair<const char*, const std::string*> patterns[] = {
      {"GET", &rule.get()}, {"PUT", &rule.put()}, {"POST", &rule.post()}, {"DELETE", &rule.delete_()},
      {"PATCH", &rule.patch()}};
  for (const auto& [method, path] : patterns) {
    if (path->empty()) continue;
    if (!r.http_method.empty()) refuse(m, "more than one of get, put, post, delete and patch");
    r.http_method = method;
    r.path = *path;
  }
  if (r.http_method.empty()) refuse(m, "no get, put, post, delete or patch");
  check_path_fields(m, r.path);
  if (rule.body() != "*" && !rule.body().empty()) refuse(m, "body must be \"*\" or empty");
  r.json_body = rule.body() == "*";
  r.service = service_of(m);
  r.rpc_method = m.service()->full_name() + "/" + m.name();
  r.request_type = m.input_type()->full_name();
  r.response_type = m.output_type()->full_name();
  r.requires_token = !rule.no_token();
  r.success_status = rule.success_status() == 0 ? 200 : rule.success_status();
  if (r.success_status < 200 || r.success_status > 299) refuse(m, "success_status must be 2xx");
  r.raw_response = rule.raw_response();
  r.method = &m;
  return r;
}

}  // namespace

const std::vector<const pb::FileDescriptor*>& api_files() {
  static const std::vector<const pb::FileDescriptor*> files = {
      identity::v1::LoginRequest::descriptor()->file(),
      scheduling::v1::BookAppointmentRequest::descriptor()->file(),
      messaging::v1::SendMessageRequest::descriptor()->file(),
      reminders::v1::ReminderDue::descriptor()->file(),
  };
  return files;
}

std::vector<Route> routes_from_descriptors(const std::vector<const pb::FileDescriptor*>& files) {
  std::vector<Route> routes;
  for (const auto* file : files) {
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int i = 0; i < service->method_count(); ++i) {
        const auto& m = *service->method(i);
        if (!m.options().HasExtension(v1::http)) continue;
        const auto& rule = m.options().GetExtension(v1::http);
        routes.push_back(route_of(m, rule));
        for (const auto& extra : rule.additional_bindings()) {
          if (extra.additional_bindings_size() > 0) refuse(m, "additional_bindings cannot nest");
          routes.push_back(route_of(m, extra));
        }
      }
    }
  }
  return routes;
}

const std::vector<Route>& annotated_routes() {
  static const std::vector<Route> routes = routes_from_descriptors(api_files());
  return routes;
}

}  // namespace alliance::api
