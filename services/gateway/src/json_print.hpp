#pragma once
// Prints protobuf messages as the JSON the public API and the push sockets carry:
// the same bytes as protobuf 3.21's MessageToJsonString with
// preserve_proto_field_names and always_print_primitive_fields, written by one
// walk over the message's reflection instead of a serialise-and-reparse.
#include <google/protobuf/message.h>

#include <string>

namespace alliance::gateway {

// Appends the JSON of `message` to `out`. Returns false, with `out` holding a
// partial rendering, when the message holds something this printer does not
// reproduce: float/double, maps, oneofs (proto3 optional too), proto2,
// well-known types other than Any, an Any whose type it cannot resolve or whose
// value has unknown fields or invalid UTF-8, nesting deeper than 32 messages.
bool append_json(const google::protobuf::Message& message, std::string& out);

// The JSON of `message`: append_json's, or protobuf_json's when append_json
// declines. Safe to call from several threads at once.
std::string print_json(const google::protobuf::Message& message);

// Replaces `out` with print_json's bytes, reusing its capacity: no allocation once
// `out` has grown to fit (a push's JSON, rendered into a reused buffer).
void print_json_into(const google::protobuf::Message& message, std::string& out);

// protobuf's own converter with those options: what print_json falls back to and
// what its output must equal. Empty (or partial) where protobuf fails, such as
// an Any of an unknown type.
std::string protobuf_json(const google::protobuf::Message& message);

}  // namespace alliance::gateway
