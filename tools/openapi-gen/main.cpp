// openapi-gen OUT.json: writes the OpenAPI 3 document of the public API, read from
// the (alliance.api.v1.http) options of the .proto files (the same document the
// gateway serves at /v1/openapi.json). Run by the build.
#include <cstdio>
#include <exception>
#include <fstream>

#include "alliance/api/openapi.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: openapi-gen OUT.json\n");
    return 2;
  }
  try {
    const std::string& doc = alliance::api::openapi_document();
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
