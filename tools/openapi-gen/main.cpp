// openapi-gen OUT.json DESCRIPTORS: writes the OpenAPI 3 document of the public API,
// read from the (alliance.api.v1.http) options of the .proto files, with the comments
// of DESCRIPTORS (a FileDescriptorSet written with protoc --include_source_info) as
// descriptions: the same document the gateway serves at /v1/openapi.json. Run by the build.
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>

#include "alliance/api/openapi.hpp"
#include "alliance/api/proto_comments.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: openapi-gen OUT.json DESCRIPTORS\n");
    return 2;
  }
  try {
    std::ifstream in(argv[2], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "openapi-gen: cannot read %s\n", argv[2]);
      return 1;
    }
    const std::string set((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string doc = alliance::api::openapi_json(alliance::api::annotated_routes(),
                                                        alliance::api::proto_comments(set, argv[2]));
    std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
    out << doc << '\n';
    out.close();
    if (!out) {
      std::fprintf(stderr, "openapi-gen: cannot write %s\n", argv[1]);
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "openapi-gen: %s\n", e.what());
    return 1;
  }
  return 0;
}
