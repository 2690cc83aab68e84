#include "json_mapping.hpp"

#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include "alliance/core/string_hash.hpp"
#include "alliance/core/utf8.hpp"
#include "json_print.hpp"
#include "json_read.hpp"

namespace alliance::gateway {
namespace pb = google::protobuf;
namespace json = boost::json;

namespace {

using FD = pb::FieldDescriptor;

bool is_integer_text(std::string_view s) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

// Returns an empty string when `v` fits the scalar type of `f`, else what was expected.
std::string_view check_scalar(const FD* f, const json::value& v) {
  switch (f->cpp_type()) {
    case FD::CPPTYPE_STRING:
      return v.is_string() ? "" : "expected a string";
    case FD::CPPTYPE_BOOL:
      return v.is_bool() ? "" : "expected true or false";
    case FD::CPPTYPE_INT32:
    case FD::CPPTYPE_INT64:
    case FD::CPPTYPE_UINT32:
    case FD::CPPTYPE_UINT64:
      if (v.is_int64() || v.is_uint64()) return "";
      if (v.is_string() && is_integer_text(v.get_string())) return "";
      if (v.is_double()) {
        double d = v.get_double();
        if (d == static_cast<double>(static_cast<long long>(d))) return "";
      }
      return "expected a whole number";
    case FD::CPPTYPE_DOUBLE:
    case FD::CPPTYPE_FLOAT:
      return (v.is_number() || v.is_string()) ? "" : "expected a number";
    case FD::CPPTYPE_ENUM:
      return (v.is_string() || v.is_int64()) ? "" : "expected an enum name";
    case FD::CPPTYPE_MESSAGE:
      return "";
  }
  return "";
}

bool is_well_known(const pb::Descriptor* d) { return d->file()->package() == "google.protobuf"; }

// Where a value sits in the body ("users[1].email"), spelled out only for an error:
// the common request passes the check without building a string.
struct JsonPath {
  const JsonPath* parent;
  std::string_view key;  // a field name, or empty for an array element
  size_t index = 0;      // the element's index when key is empty

  std::string text() const {
    std::string out = parent ? parent->text() : std::string();
    if (key.empty()) return out + "[" + std::to_string(index) + "]";
    return out.empty() ? std::string(key) : out + "." + std::string(key);
  }
};

Status refuse(const JsonPath& at, std::string_view why) {
  std::string path = at.text();
  return invalid_argument(path, path + ": " + std::string(why));
}

Status check_object(const pb::Descriptor* d, const json::object& obj, const JsonPath* parent) {
  for (const auto& [key, value] : obj) {
    const JsonPath at{parent, key};
    const FD* f = field_for_key(d, key);
    if (!f) return refuse(at, "unknown field");
    if (value.is_null()) continue;
    if (f->is_map()) {
      if (!value.is_object()) return refuse(at, "expected an object");
      continue;
    }
    auto check_one = [&](const json::value& item, const JsonPath& item_at) -> Status {
      if (f->cpp_type() == FD::CPPTYPE_MESSAGE) {
        if (is_well_known(f->message_type())) return {};
        if (!item.is_object()) return refuse(item_at, "expected an object");
        return check_object(f->message_type(), item.get_object(), &item_at);
      }
      auto why = check_scalar(f, item);
      if (!why.empty()) return refuse(item_at, why);
      return {};
    };
    if (f->is_repeated()) {
      if (!value.is_array()) return refuse(at, "expected an array");
      const auto& arr = value.get_array();
      for (size_t i = 0; i < arr.size(); ++i) {
        auto s = check_one(arr[i], JsonPath{&at, {}, i});
        if (!s) return s;
      }
    } else {
      auto s = check_one(value, at);
      if (!s) return s;
    }
  }
  return {};
}

// The pool and the factory each take a lock and hash the name on every lookup (two a
// request): a thread keeps the prototypes it has found, at most one per type compiled in.
const pb::Message* prototype(std::string_view full_type_name) {
  thread_local StringMap<const pb::Message*> prototypes;
  const pb::Message* proto = nullptr;
  if (auto it = prototypes.find(full_type_name); it != prototypes.end()) {
    proto = it->second;
  } else {
    const pb::Descriptor* d =
        pb::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(full_type_name));
    if (!d) return nullptr;
    proto = pb::MessageFactory::generated_factory()->GetPrototype(d);
    if (!proto) return nullptr;
    prototypes.emplace(std::string(full_type_name), proto);
  }
  return proto;
}

}  // namespace

std::unique_ptr<pb::Message> new_message(std::string_view full_type_name) {
  const pb::Message* proto = prototype(full_type_name);
  return std::unique_ptr<pb::Message>(proto ? proto->New() : nullptr);
}

pb::Message* new_message(std::string_view full_type_name, pb::Arena& arena) {
  const pb::Message* proto = prototype(full_type_name);
  return proto ? proto->New(&arena) : nullptr;
}

Status json_to_message(std::string_view body, pb::Message& out) {
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) return {};
  // The tree lives only while this (synchronous) call reads it: its nodes and strings
  // come from a buffer the thread keeps, not one malloc each (a larger body takes more
  // from the heap, freed on return).
  thread_local std::array<unsigned char, 16 * 1024> tree_buffer;
  json::monotonic_resource tree_memory(tree_buffer.data(), tree_buffer.size());
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, &tree_memory);
  if (ec) return invalid_argument("body", "body: malformed JSON (" + ec.message() + ")");
  if (!v.is_object()) return invalid_argument("body", "body: expected a JSON object");
  // The common body is read from the tree just parsed. The direct reader takes only
  // what check_object passes (known fields, each of its field's JSON type), so a body it
  // reads needs no check; anything else is checked for the error that names the field,
  // and what passes goes through protobuf's parser, which has the last word.
  if (read_json_object(v.get_object(), out)) return {};
  out.Clear();
  if (auto s = check_object(out.GetDescriptor(), v.get_object(), nullptr); !s) return s;
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = pb::util::JsonStringToMessage(std::string(body), &out, options);
  if (!status.ok()) {
    // The structural check passed, so this is a value out of range or similar;
    // protobuf's message names the field.
    return invalid_argument("body", "body: " + std::string(status.message()));
  }
  return {};
}

Status query_to_message(std::string_view query, pb::Message& out) {
  if (query.empty()) return {};
  const std::string text = "?" + std::string(query);  // the parsed view points into it
  auto ref = boost::urls::parse_relative_ref(text);
  if (!ref) return invalid_argument("query", "query: malformed query string");
  const pb::Descriptor* d = out.GetDescriptor();
  const pb::Reflection* r = out.GetReflection();
  for (auto param : ref->params()) {
    // Percent-decoded: any bytes at all. Only valid UTF-8 goes into a string field or
    // back to the client in an error.
    std::string key = valid_utf8(param.key);
    std::string value = param.value;
    const FD* f = field_for_key(d, key);
    if (!f || f->is_repeated() || f->cpp_type() == FD::CPPTYPE_MESSAGE)
      return invalid_argument(key, key + ": unknown query parameter");
    switch (f->cpp_type()) {
      case FD::CPPTYPE_STRING:
        if (f->type() == FD::TYPE_STRING && !is_valid_utf8(value))
          return invalid_argument(key, key + ": must be valid UTF-8");
        r->SetString(&out, f, value);
        break;
      case FD::CPPTYPE_BOOL:
        if (value != "true" && value != "false")
          return invalid_argument(key, key + ": expected true or false");
        r->SetBool(&out, f, value == "true");
        break;
      case FD::CPPTYPE_INT32:
      case FD::CPPTYPE_INT64:
        if (!is_integer_text(value)) return invalid_argument(key, key + ": expected a whole number");
        try {
          long long n = std::stoll(value);
          if (f->cpp_type() == FD::CPPTYPE_INT32) {
            if (n < INT32_MIN || n > INT32_MAX) return invalid_argument(key, key + ": out of range");
            r->SetInt32(&out, f, static_cast<int32_t>(n));
          } else {
            r->SetInt64(&out, f, n);
          }
        } catch (...) {
          return invalid_argument(key, key + ": out of range");
        }
        break;
      default:
        return invalid_argument(key, key + ": not supported as a query parameter");
    }
  }
  return {};
}

Status path_params_to_message(const std::vector<std::pair<std::string, std::string>>& params, pb::Message& out) {
  const pb::Descriptor* d = out.GetDescriptor();
  const pb::Reflection* r = out.GetReflection();
  for (const auto& [name, encoded] : params) {
    const FD* f = d->FindFieldByName(name);
    if (!f || f->is_repeated() || f->cpp_type() != FD::CPPTYPE_STRING)
      return Error{Code::kInternal, "route names a path field the request cannot hold", {}};
    std::string value;
    auto decoded = boost::urls::make_pct_string_view(encoded);
    if (!decoded) return invalid_argument(name, name + ": malformed percent-encoding in the path");
    value = decoded->decode();
    if (value.empty() || value.size() > 256) return invalid_argument(name, name + ": must be 1 to 256 characters");
    if (!is_valid_utf8(value)) return invalid_argument(name, name + ": must be valid UTF-8");
    const std::string& body_value = r->GetString(out, f);
    if (!body_value.empty() && body_value != value)
      return invalid_argument(name, name + ": differs between the path and the body");
    r->SetString(&out, f, value);
  }
  return {};
}

std::string message_to_json(const pb::Message& message) { return print_json(message); }

}  // namespace alliance::gateway
