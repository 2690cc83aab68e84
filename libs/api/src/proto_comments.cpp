#include "alliance/api/proto_comments.hpp"

#include <google/protobuf/descriptor.pb.h>

#include <stdexcept>
#include <vector>

namespace alliance::api {
namespace {

namespace pb = google::protobuf;

// Path element numbers of descriptor.proto (FileDescriptorProto.message_type = 4, ...).
constexpr int kMessageType = 4;
constexpr int kService = 6;
constexpr int kNestedType = 3;
constexpr int kField = 2;
constexpr int kMethod = 2;

std::string tidy(const std::string& raw) {
  std::string out;
  std::size_t at = 0;
  while (at < raw.size()) {
    auto end = raw.find('\n', at);
    if (end == std::string::npos) end = raw.size();
    std::string_view line(raw.data() + at, end - at);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    if (!out.empty()) out += '\n';
    out += line;
    at = end + 1;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// The full name a location's path names, or "" for paths that are not a service, an
// RPC, a message or a field.
std::string name_at(const pb::FileDescriptorProto& file, const pb::RepeatedField<int>& path) {
  const std::string prefix = file.package().empty() ? "" : file.package() + ".";
  if (path.size() < 2) return {};
  if (path[0] == kService) {
    if (path[1] >= file.service_size()) return {};
    const auto& service = file.service(path[1]);
    if (path.size() == 2) return prefix + service.name();
    if (path.size() == 4 && path[2] == kMethod && path[3] < service.method_size())
      return prefix + service.name() + "." + service.method(path[3]).name();
    return {};
  }
  if (path[0] != kMessageType || path[1] >= file.message_type_size()) return {};
  const pb::DescriptorProto* message = &file.message_type(path[1]);
  std::string name = prefix + message->name();
  int i = 2;
  for (; i + 1 < path.size() && path[i] == kNestedType; i += 2) {
    if (path[i + 1] >= message->nested_type_size()) return {};
    message = &message->nested_type(path[i + 1]);
    name += "." + message->name();
  }
  if (i == path.size()) return name;
  if (i + 2 == path.size() && path[i] == kField && path[i + 1] < message->field_size())
    return name + "." + message->field(path[i + 1]).name();
  return {};
}

}  // namespace

ProtoComments proto_comments(const pb::FileDescriptorSet& set) {
  ProtoComments out;
  for (const auto& file : set.file()) {
    for (const auto& location : file.source_code_info().location()) {
      const std::string& raw =
          !location.leading_comments().empty() ? location.leading_comments() : location.trailing_comments();
      if (raw.empty()) continue;
      auto name = name_at(file, location.path());
      if (!name.empty()) out.emplace(std::move(name), tidy(raw));
    }
  }
  return out;
}

ProtoComments proto_comments(std::string_view serialized_set, std::string_view what) {
  pb::FileDescriptorSet set;
  if (!set.ParseFromArray(serialized_set.data(), static_cast<int>(serialized_set.size())))
    throw std::runtime_error(std::string(what) + ": not a FileDescriptorSet");
  return proto_comments(set);
}

}  // namespace alliance::api
