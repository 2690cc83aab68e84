// The public API has one source: the (alliance.api.v1.http) options of the .proto
// files. Every annotated RPC is routed, every route comes from an annotation, and the
// OpenAPI document describes each of them with the JSON the gateway really speaks.
#include <gtest/gtest.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <boost/json.hpp>
#include <stdexcept>

#include "alliance/api/openapi.hpp"
#include "alliance/api/v1/http.pb.h"
#include "src/routes.hpp"

namespace alliance::gateway {
namespace {

namespace pb = google::protobuf;
namespace json = boost::json;

std::string path_of(const api::v1::HttpRule& rule) {
  for (const auto* p : {&rule.get(), &rule.put(), &rule.post(), &rule.delete_(), &rule.patch()})
    if (!p->empty()) return *p;
  return {};
}

TEST(ApiContract, EveryAnnotatedRpcIsRoutedAndEveryRouteComesFromAnAnnotation) {
  const auto& routes = public_routes();
  std::size_t annotated_bindings = 0;
  for (const auto* file : api::api_files()) {
    for (int s = 0; s < file->service_count(); ++s) {
      for (int i = 0; i < file->service(s)->method_count(); ++i) {
        const auto& m = *file->service(s)->method(i);
        if (!m.options().HasExtension(api::v1::http)) continue;
        const auto& rule = m.options().GetExtension(api::v1::http);
        std::vector<std::string> paths{path_of(rule)};
        for (const auto& extra : rule.additional_bindings()) paths.push_back(path_of(extra));
        for (const auto& path : paths) {
          ++annotated_bindings;
          bool routed = false;
          for (const auto& r : routes) routed |= r.method == &m && r.path == path;
          EXPECT_TRUE(routed) << m.full_name() << " " << path;
        }
      }
    }
  }
  EXPECT_EQ(routes.size(), annotated_bindings);
  for (const auto& r : routes) {
    ASSERT_NE(r.method, nullptr) << r.path;
    EXPECT_TRUE(r.method->options().HasExtension(api::v1::http)) << r.path;
    EXPECT_EQ(r.rpc_method, r.method->service()->full_name() + "/" + r.method->name()) << r.path;
  }
}

// A method of a throwaway file (in a pool over the generated one) annotated with `rule`.
std::vector<api::Route> routes_of(const api::v1::HttpRule& rule) {
  pb::DescriptorPool pool(pb::DescriptorPool::generated_pool());
  pb::FileDescriptorProto file;
  file.set_name("contract_test.proto");
  file.set_package("alliance.contracttest.v1");
  file.set_syntax("proto3");
  file.add_dependency("alliance/identity/v1/identity.proto");
  auto* method = file.add_service()->add_method();
  file.mutable_service(0)->set_name("ContractTest");
  method->set_name("Login");
  method->set_input_type(".alliance.identity.v1.LoginRequest");
  method->set_output_type(".alliance.identity.v1.TokenResponse");
  *method->mutable_options()->MutableExtension(api::v1::http) = rule;
  const auto* built = pool.BuildFile(file);
  if (!built) throw std::logic_error("the test's file did not build");
  return api::routes_from_descriptors({built});
}

TEST(ApiContract, AnAnnotationThatCannotBeARouteIsRefusedNamingTheRpc) {
  api::v1::HttpRule ok;
  ok.set_post("/v1/contract/{practice}");
  ok.set_body("*");
  auto routes = routes_of(ok);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].service, "contracttest");
  EXPECT_EQ(routes[0].rpc_method, "alliance.contracttest.v1.ContractTest/Login");

  auto refusal = [](const api::v1::HttpRule& rule) {
    try {
      routes_of(rule);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  api::v1::HttpRule no_method;
  EXPECT_NE(refusal(no_method).find("alliance.contracttest.v1.ContractTest.Login: no get"), std::string::npos)
      << refusal(no_method);
  api::v1::HttpRule unknown_field;
  unknown_field.set_get("/v1/contract/{nobody}");
  EXPECT_NE(refusal(unknown_field).find("{nobody} is not a string field of alliance.identity.v1.LoginRequest"),
            std::string::npos)
      << refusal(unknown_field);
  api::v1::HttpRule two_methods = ok;
  two_methods.set_get("/v1/contract");
  EXPECT_NE(refusal(two_methods).find("more than one of get"), std::string::npos) << refusal(two_methods);
  api::v1::HttpRule odd_body = ok;
  odd_body.set_body("password");
  EXPECT_NE(refusal(odd_body).find("body must be"), std::string::npos) << refusal(odd_body);
}

TEST(ApiContract, TheOpenApiDocumentDescribesEveryRouteAsTheGatewayServesIt) {
  auto doc = json::parse(api::openapi_document()).as_object();
  EXPECT_EQ(doc.at("openapi").as_string().subview().substr(0, 2), "3.");
  const auto& paths = doc.at("paths").as_object();
  std::size_t operations = 0;
  for (const auto& [path, item] : paths) operations += item.as_object().size();
  EXPECT_EQ(operations, public_routes().size());
  for (const auto& r : public_routes()) {
    std::string method = r.http_method;
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    const auto* item = paths.if_contains(r.path);
    ASSERT_TRUE(item && item->as_object().contains(method)) << r.http_method << " " << r.path;
    const auto& op = item->as_object().at(method).as_object();
    const auto& responses = op.at("responses").as_object();
    EXPECT_TRUE(responses.contains(std::to_string(r.success_status))) << r.path;
    EXPECT_EQ(responses.at("409").at("$ref").as_string(), "#/components/responses/Error409") << r.path;
    EXPECT_EQ(op.contains("security"), !r.requires_token) << r.path;
    // The .proto comment of the RPC or of its request message, from the embedded descriptors.
    EXPECT_FALSE(op.contains("description") ? op.at("description").as_string().empty() : true)
        << r.http_method << " " << r.path << " has no description";
  }
  EXPECT_NE(paths.at("/v1/appointments").at("post").at("description").as_string().find(
                "front desk/admin for any client of the practice"),
            std::string::npos);
  const auto& schemas = doc.at("components").at("schemas").as_object();
  auto property = [&](std::string_view message, std::string_view field) {
    return schemas.at(message).at("properties").at(field).as_object();
  };
  // proto3 JSON as the gateway prints it: proto field names, int64 as a string,
  // bytes as base64, repeated as an array.
  EXPECT_EQ(property("alliance.identity.v1.Practice", "created_unix_ms").at("type").as_string(), "string");
  EXPECT_EQ(property("alliance.identity.v1.SetIdentityKeyRequest", "public_key").at("format").as_string(), "byte");
  auto appointments = property("alliance.scheduling.v1.ListAppointmentsResponse", "appointments");
  EXPECT_EQ(appointments.at("type").as_string(), "array");
  EXPECT_EQ(appointments.at("items").at("$ref").as_string(), "#/components/schemas/alliance.scheduling.v1.Appointment");
  const auto& error = schemas.at("Error").at("properties").at("error").at("properties").as_object();
  for (const char* f : {"code", "message", "field", "request_id"}) EXPECT_TRUE(error.contains(f)) << f;
  // A GET's request comes from the query string: its scalar fields are query parameters.
  bool role_param = false;
  for (const auto& p : paths.at("/v1/users").at("get").at("parameters").as_array())
    role_param |= p.at("in").as_string() == "query" && p.at("name").as_string() == "role";
  EXPECT_TRUE(role_param);
}

}  // namespace
}  // namespace alliance::gateway
