#pragma once
// Fills protobuf messages from already parsed JSON: the same message that protobuf
// 3.21's JsonStringToMessage makes of that text, written by one walk over the
// message's reflection instead of protobuf's second parse (JsonStreamParser into
// ProtoWriter). The walk is driven by the descriptors, so every message type is
// covered without code of its own.
#include <google/protobuf/message.h>

#include <boost/json/object.hpp>
#include <string_view>

namespace alliance::gateway {

// The field a JSON key names in `d`: the field of that proto name, else the first
// whose JSON name (lowerCamelCase) it is, as protobuf's JSON parser reads keys; nullptr
// for neither. From a table made once per message type and thread (no string built).
const google::protobuf::FieldDescriptor* field_for_key(const google::protobuf::Descriptor* d, std::string_view key);

// Sets the fields of `out` from `object`, whose keys are field names (proto or
// JSON spelling). Returns false, with `out` partly filled, when the object holds
// anything this reader does not reproduce exactly or that protobuf would refuse,
// so that the caller clears `out` and lets protobuf decide (and word the error):
// null, a field given twice, a number where an integer must be a string's text
// or out of the field's range, a float/double field, an enum by number or by an
// unknown name, bytes that are not padded standard base64, maps, oneofs (proto3
// optional is fine), well-known types, proto2, nesting deeper than 32 messages.
bool read_json_object(const boost::json::object& object, google::protobuf::Message& out);

}  // namespace alliance::gateway
