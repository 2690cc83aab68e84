#include "alliance/api/openapi.hpp"

#include <google/protobuf/descriptor.h>

#include <boost/json.hpp>
#include <map>
#include <set>
#include <utility>

namespace alliance::api {
namespace {

namespace pb = google::protobuf;
namespace json = boost::json;

std::string ref_to(const pb::Descriptor& d) { return "#/components/schemas/" + d.full_name(); }

// Message schemas reached from the routes, written once each under components.schemas.
class Schemas {
 public:
  explicit Schemas(const ProtoComments& comments) : comments_(comments) {}

  // The comment of a full name, "" without one.
  std::string_view comment(const std::string& full_name) const {
    auto it = comments_.find(full_name);
    return it == comments_.end() ? std::string_view() : std::string_view(it->second);
  }

  json::object ref(const pb::Descriptor& d) {
    if (auto known = well_known(d)) return *known;
    if (!seen_.insert(d.full_name()).second) return {{"$ref", ref_to(d)}};
    json::object props;
    for (int i = 0; i < d.field_count(); ++i) {
      const auto& f = *d.field(i);
      // The gateway prints and reads proto field names (snake_case), not lowerCamelCase.
      auto schema = field_schema(f);
      // A $ref takes no siblings in OpenAPI 3.0: a message field's description stays on its schema.
      if (auto about = comment(f.full_name()); !about.empty() && !schema.contains("$ref"))
        schema["description"] = about;
      props[f.name()] = std::move(schema);
    }
    json::object schema{{"type", "object"}, {"properties", std::move(props)}};
    if (auto about = comment(d.full_name()); !about.empty()) schema["description"] = about;
    schemas_[d.full_name()] = std::move(schema);
    return {{"$ref", ref_to(d)}};
  }
  json::object take() {
    json::object out;
    for (auto& [name, schema] : schemas_) out[name] = std::move(schema);
    return out;
  }

  json::object field_schema(const pb::FieldDescriptor& f) {
    if (f.is_map()) {
      return {{"type", "object"}, {"additionalProperties", value_schema(*f.message_type()->map_value())}};
    }
    auto one = value_schema(f);
    if (f.is_repeated()) return {{"type", "array"}, {"items", std::move(one)}};
    return one;
  }

 private:
  static std::optional<json::object> well_known(const pb::Descriptor& d) {
    const auto& n = d.full_name();
    if (n == "google.protobuf.Timestamp") return json::object{{"type", "string"}, {"format", "date-time"}};
    if (n == "google.protobuf.Duration") return json::object{{"type", "string"}};
    if (n.rfind("google.protobuf.", 0) == 0) return json::object{};  // Any, Struct, Value...: free-form
    return std::nullopt;
  }

  json::object value_schema(const pb::FieldDescriptor& f) {
    using T = pb::FieldDescriptor;
    switch (f.cpp_type()) {
      case T::CPPTYPE_INT32: return {{"type", "integer"}, {"format", "int32"}};
      case T::CPPTYPE_UINT32: return {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}};
      // proto3 JSON: 64-bit integers are decimal strings.
      case T::CPPTYPE_INT64: return {{"type", "string"}, {"format", "int64"}, {"pattern", "^-?[0-9]+$"}};
      case T::CPPTYPE_UINT64: return {{"type", "string"}, {"format", "uint64"}, {"pattern", "^[0-9]+$"}};
      case T::CPPTYPE_DOUBLE: return {{"type", "number"}, {"format", "double"}};
      case T::CPPTYPE_FLOAT: return {{"type", "number"}, {"format", "float"}};
      case T::CPPTYPE_BOOL: return {{"type", "boolean"}};
      case T::CPPTYPE_STRING:
        if (f.type() == T::TYPE_BYTES) return {{"type", "string"}, {"format", "byte"}};  // base64
        return {{"type", "string"}};
      case T::CPPTYPE_ENUM: {
        json::array names;
        for (int i = 0; i < f.enum_type()->value_count(); ++i) names.emplace_back(f.enum_type()->value(i)->name());
        return {{"type", "string"}, {"enum", std::move(names)}};
      }
      case T::CPPTYPE_MESSAGE: return ref(*f.message_type());
    }
    return {};
  }

  const ProtoComments& comments_;
  std::set<std::string> seen_;
  std::map<std::string, json::object> schemas_;
};

// Error replies and the status each code is served with (services/gateway's error_reply).
const std::pair<int, const char*> kErrorStatuses[] = {
    {400, "invalid_argument: a field is missing or malformed (error.field names it)"},
    {401, "unauthenticated: no valid access token, or wrong credentials"},
    {403, "permission_denied: the caller's role or care team does not allow this"},
    {404, "not_found"},
    {409, "already_exists or failed_precondition: the request conflicts with the current state"},
    {413, "the body is larger than the gateway accepts"},
    {429, "resource_exhausted: rate limited (see Retry-After)"},
    {500, "internal"},
    {503, "unavailable: the service behind the route cannot be reached"},
    {504, "deadline_exceeded"},
};

json::object error_schema() {
  json::object error{{"type", "object"},
                     {"required", json::array{"code", "message"}},
                     {"properties",
                      {{"code", {{"type", "string"}}},
                       {"message", {{"type", "string"}}},
                       {"field", {{"type", "string"}}},
                       {"request_id", {{"type", "string"}}}}}};
  return {{"type", "object"}, {"required", json::array{"error"}}, {"properties", {{"error", std::move(error)}}}};
}

json::object json_content(json::object schema) {
  return {{"application/json", {{"schema", std::move(schema)}}}};
}

json::object operation(const Route& r, Schemas& schemas, std::map<std::string, int>& operation_ids) {
  const auto& in = *r.method->input_type();
  json::array parameters;
  std::set<std::string> in_path;
  for (auto open = r.path.find('{'); open != std::string::npos; open = r.path.find('{', open + 1)) {
    auto name = r.path.substr(open + 1, r.path.find('}', open) - open - 1);
    in_path.insert(name);
    parameters.push_back(json::object{{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
  }
  json::object op;
  const std::string name = r.method->name();
  int n = ++operation_ids[name];
  op["operationId"] = n == 1 ? name : name + std::to_string(n);
  op["tags"] = json::array{r.service};
  op["summary"] = r.rpc_method;
  // The RPC's own comment, else its request message's (where most routes are described).
  auto about = schemas.comment(r.method->full_name());
  if (about.empty()) about = schemas.comment(in.full_name());
  if (!about.empty()) op["description"] = about;
  if (r.json_body) {
    op["requestBody"] = {{"required", false}, {"content", json_content(schemas.ref(in))}};
  } else {
    // The gateway fills the request's single scalar fields from the query string.
    for (int i = 0; i < in.field_count(); ++i) {
      const auto& f = *in.field(i);
      if (in_path.count(f.name()) || f.is_repeated() || f.cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
      parameters.push_back(json::object{{"name", f.name()}, {"in", "query"}, {"required", false},
                                        {"schema", schemas.field_schema(f)}});
    }
  }
  if (!parameters.empty()) op["parameters"] = std::move(parameters);
  json::object responses;
  json::object success{{"description", "success"}};
  if (r.raw_response) {
    success["content"] = {{"*/*", {{"schema", {{"type", "string"}}}}}};
    success["description"] = "served as is, with the response's content type (e.g. text/calendar)";
  } else {
    success["content"] = json_content(schemas.ref(*r.method->output_type()));
  }
  responses[std::to_string(r.success_status)] = std::move(success);
  for (const auto& [status, _] : kErrorStatuses) {
    if (status == 401 && !r.requires_token && r.method->name() != "Login") continue;
    responses[std::to_string(status)] = {{"$ref", "#/components/responses/Error" + std::to_string(status)}};
  }
  op["responses"] = std::move(responses);
  if (!r.requires_token) op["security"] = json::array{};
  return op;
}

}  // namespace

std::string openapi_json(const std::vector<Route>& routes, const ProtoComments& comments) {
  Schemas schemas(comments);
  std::map<std::string, int> operation_ids;
  json::object paths;
  for (const auto& r : routes) {
    std::string method = r.http_method;
    for (auto& c : method) c = static_cast<char>(c - 'A' + 'a');
    auto& item = paths[r.path];
    if (!item.is_object()) item = json::object();
    item.as_object()[method] = operation(r, schemas, operation_ids);
  }
  json::object components;
  auto all = schemas.take();
  all["Error"] = error_schema();
  components["schemas"] = std::move(all);
  json::object responses;
  for (const auto& [status, description] : kErrorStatuses)
    responses["Error" + std::to_string(status)] = {{"description", description},
                                                   {"content", json_content({{"$ref", "#/components/schemas/Error"}})}};
  components["responses"] = std::move(responses);
  components["securitySchemes"] = {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}};
  json::object doc{
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "Alliance public API"},
        {"version", "v1"},
        {"description",
         "Client-therapist messaging, appointment booking and reminders for therapy practices. "
         "Written from the (alliance.api.v1.http) options of the .proto files; fields use the proto names."}}},
      {"servers", json::array{json::object{{"url", "/"}}}},
      {"security", json::array{json::object{{"bearer", json::array{}}}}},
      {"paths", std::move(paths)},
      {"components", std::move(components)},
  };
  return json::serialize(doc);
}

const std::string& openapi_document() {
  static const std::string doc = openapi_json(annotated_routes(), built_proto_comments());
  return doc;
}

}  // namespace alliance::api
