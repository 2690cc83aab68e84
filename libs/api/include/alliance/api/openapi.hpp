#pragma once
// The OpenAPI 3 document of the public API, written from the same descriptors
// as the gateway's routes: every route, its path and query parameters, request
// and response schemas (field names and types as the gateway's JSON mapping
// prints them), the error shape and the status codes.
#include <string>
#include <vector>

#include "alliance/api/http_routes.hpp"
#include "alliance/api/proto_comments.hpp"

namespace alliance::api {

// Each operation's description is its RPC's comment, else its request message's; each
// schema's and property's the message's and field's.
std::string openapi_json(const std::vector<Route>& routes, const ProtoComments& comments = {});
// openapi_json(annotated_routes(), built_proto_comments()), built once.
const std::string& openapi_document();

}  // namespace alliance::api
