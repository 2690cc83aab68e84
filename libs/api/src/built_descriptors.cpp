// The descriptor set with source info that proto/ writes (ALLIANCE_PROTO_DESCRIPTORS),
// linked into libs/api as bytes so the gateway serves the same commented OpenAPI
// document that tools/openapi-gen writes, with no file to find at run time.
#include "alliance/api/proto_comments.hpp"

#ifndef ALLIANCE_PROTO_DESCRIPTORS
#error "ALLIANCE_PROTO_DESCRIPTORS must name the descriptor set file"
#endif

asm(".pushsection .rodata\n"
    ".global alliance_proto_descriptors_begin\n"
    "alliance_proto_descriptors_begin:\n"
    ".incbin \"" ALLIANCE_PROTO_DESCRIPTORS "\"\n"
    ".global alliance_proto_descriptors_end\n"
    "alliance_proto_descriptors_end:\n"
    ".popsection\n");

extern "C" const char alliance_proto_descriptors_begin[];
extern "C" const char alliance_proto_descriptors_end[];

namespace alliance::api {

const ProtoComments& built_proto_comments() {
  static const ProtoComments comments = proto_comments(
      std::string_view(alliance_proto_descriptors_begin,
                       static_cast<std::size_t>(alliance_proto_descriptors_end - alliance_proto_descriptors_begin)),
      "the built descriptor set");
  return comments;
}

}  // namespace alliance::api
