#include "json_read.hpp"

#include <google/protobuf/descriptor.h>

#include <array>
#include <boost/json/value.hpp>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>

#include "alliance/core/string_hash.hpp"

namespace alliance::gateway {
namespace pb = google::protobuf;
namespace json = boost::json;

namespace {

using FD = pb::FieldDescriptor;

// protobuf's own limit is higher; a body this deep is left to it.
constexpr int kMaxDepth = 32;

// True for the messages protobuf reads as an object of their fields.
bool reads_as_fields(const pb::Descriptor* d) {
  return d->file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3 && d->file()->package() != "google.protobuf" &&
         d->real_oneof_decl_count() == 0;
}

constexpr std::array<int8_t, 256> kBase64Digit = [] {
  std::array<int8_t, 256> v{};
  for (auto& x : v) x = -1;
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < alphabet.size(); ++i) v[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return v;
}();

// Standard base64 with padding and zero trailing bits, the form protobuf prints
// (and decodes to the same bytes). Anything else is left to protobuf.
bool decode_base64(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  out.resize(text.size() / 4 * 3 - pad);
  if (text.empty()) return true;
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  auto digit = [](uint8_t c) { return static_cast<int32_t>(kBase64Digit[c]); };
  // Every group of four but the last: three bytes each. A character outside the
  // alphabet is -1, which makes the OR of the four negative.
  const size_t whole = text.size() / 4 - 1;
  for (size_t g = 0; g < whole; ++g, in += 4, p += 3) {
    const int32_t a = digit(in[0]), b = digit(in[1]), c = digit(in[2]), d = digit(in[3]);
    if ((a | b | c | d) < 0) return false;
    const uint32_t v = static_cast<uint32_t>(a) << 18 | static_cast<uint32_t>(b) << 12 |
                       static_cast<uint32_t>(c) << 6 | static_cast<uint32_t>(d);
    p[0] = static_cast<uint8_t>(v >> 16);
    p[1] = static_cast<uint8_t>(v >> 8);
    p[2] = static_cast<uint8_t>(v);
  }
  // The last group: 4 - pad digits, whose unused low bits must be zero.
  const int32_t a = digit(in[0]), b = digit(in[1]);
  const int32_t c = pad < 2 ? digit(in[2]) : 0, d = pad < 1 ? digit(in[3]) : 0;
  if ((a | b | c | d) < 0) return false;
  const uint32_t v = static_cast<uint32_t>(a) << 18 | static_cast<uint32_t>(b) << 12 |
                     static_cast<uint32_t>(c) << 6 | static_cast<uint32_t>(d);
  if (pad == 2 && (v & 0xffff) != 0) return false;
  if (pad == 1 && (v & 0xff) != 0) return false;
  p[0] = static_cast<uint8_t>(v >> 16);
  if (pad < 2) p[1] = static_cast<uint8_t>(v >> 8);
  if (pad < 1) p[2] = static_cast<uint8_t>(v);
  return true;
}

// The canonical decimal text of an integer: what protobuf would print. Other
// spellings it may accept ("+1", " 1", "01") are left to it.
template <typename Int>
bool parse_int_text(std::string_view s, Int& out) {
  if (s.empty() || s == "-0") return false;
  const size_t digits = s[0] == '-' ? 1 : 0;
  if (s.size() > digits + 1 && s[digits] == '0') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// An integer field's value from a JSON integer or its decimal text; false if out
// of range or spelled any other way.
template <typename Int>
bool integer_of(const json::value& v, Int& out) {
  if (v.is_string()) return parse_int_text(std::string_view(v.get_string()), out);
  if (v.is_int64()) {
    const std::int64_t n = v.get_int64();
    if constexpr (std::is_signed_v<Int>) {
      if (n < std::numeric_limits<Int>::min() || n > std::numeric_limits<Int>::max()) return false;
    } else {
      if (n < 0 || static_cast<std::uint64_t>(n) > std::numeric_limits<Int>::max()) return false;
    }
    out = static_cast<Int>(n);
    return true;
  }
  if (v.is_uint64()) {
    const std::uint64_t n = v.get_uint64();
    if (n > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) return false;
    out = static_cast<Int>(n);
    return true;
  }
  return false;  // a double, even a whole one: protobuf words its own checks
}

class JsonReader {
 public:
  bool message(const json::object& object, pb::Message& m, int depth) {
    const pb::Descriptor* d = m.GetDescriptor();
    if (depth > kMaxDepth || !reads_as_fields(d)) return false;
    const pb::Reflection* r = m.GetReflection();
    // Fields already set from this object: "display_name" and "displayName" both name one.
    std::uint64_t seen_low = 0;
    std::string seen_high;
    for (const auto& entry : object) {
      const FD* f = field_for_key(d, entry.key());
      if (f == nullptr || f->is_map() || entry.value().is_null()) return false;
      const int index = f->index();
      if (index < 64) {
        const std::uint64_t bit = std::uint64_t{1} << index;
        if (seen_low & bit) return false;
        seen_low |= bit;
      } else {
        if (seen_high.size() < static_cast<size_t>(d->field_count())) seen_high.resize(d->field_count(), 0);
        if (seen_high[index]) return false;
        seen_high[index] = 1;
      }
      if (f->is_repeated()) {
        if (!entry.value().is_array()) return false;
        for (const json::value& item : entry.value().get_array())
          if (!value(item, m, r, f, true, depth)) return false;
      } else if (!value(entry.value(), m, r, f, false, depth)) {
        return false;
      }
    }
    return true;
  }

 private:
  bool value(const json::value& v, pb::Message& m, const pb::Reflection* r, const FD* f, bool add, int depth) {
    switch (f->cpp_type()) {
      case FD::CPPTYPE_INT32: {
        std::int32_t n;
        if (!integer_of(v, n)) return false;
        add ? r->AddInt32(&m, f, n) : r->SetInt32(&m, f, n);
        return true;
      }
      case FD::CPPTYPE_INT64: {
        std::int64_t n;
        if (!integer_of(v, n)) return false;
        add ? r->AddInt64(&m, f, n) : r->SetInt64(&m, f, n);
        return true;
      }
      case FD::CPPTYPE_UINT32: {
        std::uint32_t n;
        if (!integer_of(v, n)) return false;
        add ? r->AddUInt32(&m, f, n) : r->SetUInt32(&m, f, n);
        return true;
      }
      case FD::CPPTYPE_UINT64: {
        std::uint64_t n;
        if (!integer_of(v, n)) return false;
        add ? r->AddUInt64(&m, f, n) : r->SetUInt64(&m, f, n);
        return true;
      }
      case FD::CPPTYPE_BOOL:
        if (!v.is_bool()) return false;
        add ? r->AddBool(&m, f, v.get_bool()) : r->SetBool(&m, f, v.get_bool());
        return true;
      case FD::CPPTYPE_ENUM: {
        if (!v.is_string() || f->enum_type()->file()->package() == "google.protobuf") return false;
        name_.assign(v.get_string().data(), v.get_string().size());
        const pb::EnumValueDescriptor* e = f->enum_type()->FindValueByName(name_);
        if (e == nullptr) return false;
        add ? r->AddEnumValue(&m, f, e->number()) : r->SetEnumValue(&m, f, e->number());
        return true;
      }
      case FD::CPPTYPE_STRING: {
        if (!v.is_string()) return false;
        const std::string_view text(v.get_string());
        std::string s;
        if (f->type() == FD::TYPE_BYTES) {
          if (!decode_base64(text, s)) return false;
        } else {
          s.assign(text.data(), text.size());  // boost::json has checked the UTF-8
        }
        add ? r->AddString(&m, f, std::move(s)) : r->SetString(&m, f, std::move(s));
        return true;
      }
      case FD::CPPTYPE_MESSAGE: {
        if (!v.is_object()) return false;
        pb::Message* inner = add ? r->AddMessage(&m, f) : r->MutableMessage(&m, f);
        return message(v.get_object(), *inner, depth + 1);
      }
      case FD::CPPTYPE_FLOAT:
      case FD::CPPTYPE_DOUBLE:
        return false;  // protobuf's number rules (strings, "NaN", ranges) are not reproduced
    }
    return false;
  }

  std::string name_;
};

}  // namespace

const FD* field_for_key(const pb::Descriptor* d, std::string_view key) {
  thread_local std::unordered_map<const pb::Descriptor*, StringMap<const FD*>> tables;
  auto [it, made] = tables.try_emplace(d);
  auto& table = it->second;
  if (made) {
    for (int i = 0; i < d->field_count(); ++i) table.emplace(d->field(i)->name(), d->field(i));
    // A JSON name never hides a proto name; of equal JSON names the first field wins.
    for (int i = 0; i < d->field_count(); ++i) table.emplace(d->field(i)->json_name(), d->field(i));
  }
  auto f = table.find(key);
  return f == table.end() ? nullptr : f->second;
}

bool read_json_object(const json::object& object, pb::Message& out) {
  if (out.GetDescriptor()->file()->pool() != pb::DescriptorPool::generated_pool()) return false;
  return JsonReader().message(object, out, 0);
}

}  // namespace alliance::gateway
