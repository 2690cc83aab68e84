#pragma once
// The public HTTP API as declared in the .proto files: every RPC with an
// (alliance.api.v1.http) option (proto/alliance/api/v1/http.proto) is a route
// from an HTTP method and path onto that RPC of an internal service, with the
// protobuf request and response types its JSON is converted from and to.
// Adding an endpoint is annotating an RPC.
#include <string>
#include <vector>

namespace google::protobuf {
class FileDescriptor;
class MethodDescriptor;
}  // namespace google::protobuf

namespace alliance::api {

struct Route {
  std::string http_method;  // "GET", "POST", ...
  // The path; a segment "{field}" (optionally followed by a literal suffix,
  // "{feed_token}.ics") matches any non-empty segment and fills that string
  // field of the request message.
  std::string path;
  std::string service;        // upstream service name, e.g. "identity" (from the package)
  std::string rpc_method;     // "alliance.identity.v1.Identity/Login"
  std::string request_type;   // fully qualified protobuf message name
  std::string response_type;
  bool requires_token = true;  // false only where the option says no_token
  int success_status = 200;
  // The response message has `content_type` and `body` fields that are served
  // as they are (e.g. an iCalendar feed) instead of as JSON.
  bool raw_response = false;
  bool json_body = false;  // body: "*"; otherwise the request comes from the query string
  const google::protobuf::MethodDescriptor* method = nullptr;
};

// The .proto files whose services hold public routes (identity, scheduling,
// messaging, reminders), in the order their routes are tried.
const std::vector<const google::protobuf::FileDescriptor*>& api_files();

// Routes from the options of the given methods' files. Throws std::runtime_error
// naming the RPC when an option cannot be a route (no method or path, a path
// parameter that is not a string field of the request, a body other than "*" or "").
std::vector<Route> routes_from_descriptors(const std::vector<const google::protobuf::FileDescriptor*>& files);

// routes_from_descriptors(api_files()), built once.
const std::vector<Route>& annotated_routes();

}  // namespace alliance::api
