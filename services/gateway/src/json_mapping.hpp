#pragma once
// Converts between the public JSON API and protobuf messages using protobuf's
// own JSON mapping (snake_case names, int64 as strings), after a structural
// check that names the offending field: "email: expected a string".
#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alliance/core/result.hpp"

namespace alliance::gateway {

// A fresh message of a generated type, or nullptr if the name is unknown.
std::unique_ptr<google::protobuf::Message> new_message(std::string_view full_type_name);
// The same on `arena`, which owns it.
google::protobuf::Message* new_message(std::string_view full_type_name, google::protobuf::Arena& arena);

// Fills `out` from a JSON object. An empty body is the empty object.
Status json_to_message(std::string_view body, google::protobuf::Message& out);
// Fills scalar fields of `out` from a URL query string ("role=client&x=1").
Status query_to_message(std::string_view query, google::protobuf::Message& out);
// Sets string fields from path parameters ("{appointment_id}"), percent-decoded.
// A body field that disagrees with the path is an error naming it.
Status path_params_to_message(const std::vector<std::pair<std::string, std::string>>& params,
                              google::protobuf::Message& out);
// snake_case names, primitive fields printed even when they hold defaults.
std::string message_to_json(const google::protobuf::Message& message);

}  // namespace alliance::gateway
