#pragma once
// The comments of the .proto files, read from a descriptor set written with source
// info (protoc --include_source_info --descriptor_set_out), so the OpenAPI document can
// say what each route, message and field is for.
#include <map>
#include <string>
#include <string_view>

namespace google::protobuf {
class FileDescriptorSet;
}

namespace alliance::api {

// Full name -> comment: RPCs ("alliance.scheduling.v1.Scheduling.BookAppointment"),
// messages ("alliance.scheduling.v1.Appointment") and fields
// ("alliance.scheduling.v1.Appointment.start_time"). The leading comment, else the
// trailing one, trimmed of the space after each "//"; names without one are absent.
using ProtoComments = std::map<std::string, std::string, std::less<>>;
ProtoComments proto_comments(const google::protobuf::FileDescriptorSet& set);

// A serialized FileDescriptorSet; throws std::runtime_error naming `what` if it does not parse.
ProtoComments proto_comments(std::string_view serialized_set, std::string_view what);

// The descriptor set the build embeds in libs/api (proto/, with source info).
const ProtoComments& built_proto_comments();

}  // namespace alliance::api
