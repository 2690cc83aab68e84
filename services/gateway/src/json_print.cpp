#include "json_print.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alliance/core/string_hash.hpp"

namespace alliance::gateway {
namespace pb = google::protobuf;

namespace {

using FD = pb::FieldDescriptor;

// Past this many nested messages protobuf's converter may give up; it decides.
constexpr int kMaxDepth = 32;
// The only prefix protobuf's generated-pool type resolver accepts.
constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com/";
// A thread's buffer keeps its capacity up to this; one huge response should not
// pin that much memory on every io thread.
constexpr size_t kKeptBufferBytes = 64 * 1024;

// ASCII bytes that protobuf's JSON writer copies as they are: printable, except
// '"' and '\\' (JSON) and '<' and '>' (it escapes those for HTML).
constexpr std::array<bool, 256> kPlainAscii = [] {
  std::array<bool, 256> plain{};
  for (int b = 0x20; b < 0x7f; ++b) plain[b] = true;
  plain['"'] = plain['\\'] = plain['<'] = plain['>'] = false;
  return plain;
}();

// The code points from U+007F up that protobuf's JSON writer escapes: DEL, C1
// controls and invisible formatting characters (json_print_test checks every
// code point against protobuf 3.21).
bool needs_escape(uint32_t cp) {
  return (cp >= 0x7f && cp <= 0x9f) || cp == 0xad || (cp >= 0x600 && cp <= 0x603) || cp == 0x6dd ||
         cp == 0x70f || cp == 0x17b4 || cp == 0x17b5 || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x206a && cp <= 0x206f) ||
         cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0x1d173 && cp <= 0x1d17a) ||
         cp == 0xe0001 || (cp >= 0xe0020 && cp <= 0xe007f);
}

void append_u_escape(std::string& out, uint32_t unit) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char text[6] = {'\\', 'u', kHex[(unit >> 12) & 0xf], kHex[(unit >> 8) & 0xf], kHex[(unit >> 4) & 0xf],
                        kHex[unit & 0xf]};
  out.append(text, sizeof text);
}

void append_escaped(std::string& out, uint32_t cp) {
  switch (cp) {
    case '\b': out += "\\b"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\f': out += "\\f"; return;
    case '\r': out += "\\r"; return;
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
  }
  if (cp < 0x10000) {
    append_u_escape(out, cp);
  } else {
    cp -= 0x10000;
    append_u_escape(out, 0xd800 + (cp >> 10));
    append_u_escape(out, 0xdc00 + (cp & 0x3ff));
  }
}

// A JSON string the way protobuf's JsonEscaping writes one, malformed UTF-8
// included: a sequence broken by a non-continuation byte is dropped together
// with that byte, as are stray and truncated sequences, surrogates and code
// points past U+10FFFF; an overlong form of a character is kept as it is unless
// that character is escaped.
void append_string(std::string& out, std::string_view s) {
  out += '"';
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    size_t run = i;
    while (run < n && kPlainAscii[static_cast<uint8_t>(s[run])]) ++run;
    out.append(s.data() + i, run - i);
    if (run == n) break;
    i = run;
    const uint8_t lead = static_cast<uint8_t>(s[i]);
    if (lead < 0x80) {
      append_escaped(out, lead);
      ++i;
      continue;
    }
    const size_t start = i++;
    uint32_t cp;
    int more;
    if (lead <= 0xbf || lead >= 0xf8) continue;
    if (lead <= 0xdf) {
      cp = lead & 0x1f;
      more = 1;
    } else if (lead <= 0xef) {
      cp = lead & 0x0f;
      more = 2;
    } else {
      cp = lead & 0x07;
      more = 3;
    }
    bool broken = false;
    while (more > 0 && i < n) {
      const uint8_t c = static_cast<uint8_t>(s[i++]);
      --more;
      cp = (cp << 6) | (c & 0x3f);
      if (c < 0x80 || c > 0xbf) {
        broken = true;
        break;
      }
    }
    if (broken || more > 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) continue;
    if (cp < 0x80 ? !kPlainAscii[cp] : needs_escape(cp)) {
      append_escaped(out, cp);
    } else {
      out.append(s.data() + start, i - start);
    }
  }
  out += '"';
}

// Standard alphabet with padding, as protobuf's Base64Escape.
void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const size_t n = bytes.size();
  const size_t at = out.size();
  out.resize(at + 2 + (n + 2) / 3 * 4);
  char* p = out.data() + at;
  *p++ = '"';
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8) | b[i + 2];
    *p++ = kAlphabet[v >> 18];
    *p++ = kAlphabet[(v >> 12) & 0x3f];
    *p++ = kAlphabet[(v >> 6) & 0x3f];
    *p++ = kAlphabet[v & 0x3f];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{b[i]} << 16;
    *p++ = kAlphabet[v >> 18];
    *p++ = kAlphabet[(v >> 12) & 0x3f];
    *p++ = '=';
    *p++ = '=';
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8);
    *p++ = kAlphabet[v >> 18];
    *p++ = kAlphabet[(v >> 12) & 0x3f];
    *p++ = kAlphabet[(v >> 6) & 0x3f];
    *p++ = '=';
  }
  *p = '"';
}

template <typename Int>
void append_int(std::string& out, Int v) {
  char text[24];
  out.append(text, std::to_chars(text, text + sizeof text, v).ptr);
}

// True for the messages whose JSON is their fields: proto3 and not one of the
// well-known types, which protobuf renders in their own ways.
bool prints_as_fields(const pb::Descriptor* d) {
  return d->file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3 && d->file()->package() != "google.protobuf";
}

// One rendering into `out_`. Each method returns false as soon as it meets
// something it does not reproduce; the caller then discards the output.
class JsonPrinter {
 public:
  explicit JsonPrinter(std::string& out) : out_(out) {}

  bool message(const pb::Message& m, int depth) {
    const pb::Descriptor* d = m.GetDescriptor();
    if (depth > kMaxDepth) return false;
    if (d->well_known_type() == pb::Descriptor::WELLKNOWNTYPE_ANY) return any(m, depth);
    if (!prints_as_fields(d)) return false;
    out_ += '{';
    if (!fields(m, true, depth)) return false;
    out_ += '}';
    return true;
  }

 private:
  // Every field in declaration order (protobuf's order when it prints defaults;
  // without them it follows field numbers): unset sub-messages and optionals are left out,
  // empty repeated fields are [], everything else prints its value.
  bool fields(const pb::Message& m, bool first, int depth) {
    const FieldOrder& order = field_order(m.GetDescriptor());
    if (!order.printable) return false;
    const pb::Reflection* r = m.GetReflection();
    for (const PlannedField& p : order.fields) {
      if (p.repeated) {
        key(p, first);
        out_ += '[';
        const int size = r->FieldSize(m, p.field);
        for (int j = 0; j < size; ++j) {
          if (j > 0) out_ += ',';
          if (!value(m, r, p.field, j, depth)) return false;
        }
        out_ += ']';
      } else if (!p.presence || r->HasField(m, p.field)) {
        key(p, first);
        if (!value(m, r, p.field, -1, depth)) return false;
      }
    }
    return true;
  }

  // A message type's fields in the order they print, with each key's text, worked out
  // once per type and thread instead of walking the descriptor for every message.
  struct PlannedField {
    const FD* field;
    std::string key;  // ,"name":
    bool repeated;
    bool presence;
  };
  struct FieldOrder {
    bool printable = true;  // false: a real oneof or a map, left to protobuf
    std::vector<PlannedField> fields;
  };
  static const FieldOrder& field_order(const pb::Descriptor* d) {
    // Bounded by the message types compiled in (only the generated pool prints here).
    thread_local std::unordered_map<const pb::Descriptor*, FieldOrder> orders;
    auto [it, fresh] = orders.try_emplace(d);
    FieldOrder& order = it->second;
    if (!fresh) return order;
    // protobuf prints a proto3 `optional` field (in a synthetic oneof) only when set and
    // after every other field: a second pass over the fields takes those.
    const int n = d->field_count();
    for (int i = 0; i < 2 * n; ++i) {
      const FD* f = d->field(i % n);
      if (f->real_containing_oneof() != nullptr || f->is_map()) {
        order.printable = false;
        order.fields.clear();
        break;
      }
      if ((f->containing_oneof() != nullptr) != (i >= n)) continue;
      std::string key = ",\"";
      key += f->name();
      key += "\":";
      order.fields.push_back(PlannedField{f, std::move(key), f->is_repeated(), f->has_presence()});
    }
    return order;
  }

  void key(const PlannedField& p, bool& first) {
    // The key's text starts with the comma that separates it from the field before.
    const std::string_view text = first ? std::string_view(p.key).substr(1) : std::string_view(p.key);
    first = false;
    out_ += text;
  }

  // The value of a singular field (index < 0) or of one repeated element.
  bool value(const pb::Message& m, const pb::Reflection* r, const FD* f, int index, int depth) {
    const bool one = index < 0;
    switch (f->cpp_type()) {
      case FD::CPPTYPE_INT32: append_int(out_, one ? r->GetInt32(m, f) : r->GetRepeatedInt32(m, f, index)); break;
      case FD::CPPTYPE_UINT32: append_int(out_, one ? r->GetUInt32(m, f) : r->GetRepeatedUInt32(m, f, index)); break;
      case FD::CPPTYPE_INT64: append_quoted_int(one ? r->GetInt64(m, f) : r->GetRepeatedInt64(m, f, index)); break;
      case FD::CPPTYPE_UINT64: append_quoted_int(one ? r->GetUInt64(m, f) : r->GetRepeatedUInt64(m, f, index)); break;
      case FD::CPPTYPE_BOOL: out_ += (one ? r->GetBool(m, f) : r->GetRepeatedBool(m, f, index)) ? "true" : "false";
        break;
      case FD::CPPTYPE_ENUM: {
        if (f->enum_type()->file()->package() == "google.protobuf") return false;  // NullValue prints null
        const int number = one ? r->GetEnumValue(m, f) : r->GetRepeatedEnumValue(m, f, index);
        if (const pb::EnumValueDescriptor* known = f->enum_type()->FindValueByNumber(number)) {
          out_ += '"';
          out_ += known->name();
          out_ += '"';
        } else {
          append_int(out_, number);
        }
        break;
      }
      case FD::CPPTYPE_STRING: {
        std::string scratch;  // used only by non-string backings, such as cords
        const std::string& s =
            one ? r->GetStringReference(m, f, &scratch) : r->GetRepeatedStringReference(m, f, index, &scratch);
        if (f->type() == FD::TYPE_BYTES) {
          append_base64(out_, s);
        } else {
          append_string(out_, s);
        }
        break;
      }
      case FD::CPPTYPE_MESSAGE:
        return message(one ? r->GetMessage(m, f) : r->GetRepeatedMessage(m, f, index), depth + 1);
      case FD::CPPTYPE_FLOAT:
      case FD::CPPTYPE_DOUBLE:
        return false;  // protobuf's float formatting is not reproduced here
    }
    return true;
  }

  // 64-bit integers are JSON strings, as JavaScript numbers cannot hold them.
  template <typename Int>
  void append_quoted_int(Int v) {
    out_ += '"';
    append_int(out_, v);
    out_ += '"';
  }

  // {"@type":url, ...the packed message's fields}. protobuf prints the packed
  // fields (defaults included) only when the value has bytes: a packed message
  // whose fields are all default prints as {"@type":url} alone, and the empty
  // Any as {}.
  bool any(const pb::Message& m, int depth) {
    const pb::Descriptor* d = m.GetDescriptor();
    const pb::Reflection* r = m.GetReflection();
    const FD* url_field = d->FindFieldByNumber(1);
    const FD* value_field = d->FindFieldByNumber(2);
    if (url_field == nullptr || value_field == nullptr) return false;
    std::string url_scratch, value_scratch;
    const std::string& url = r->GetStringReference(m, url_field, &url_scratch);
    const std::string& value = r->GetStringReference(m, value_field, &value_scratch);
    if (value.empty()) {
      out_ += '{';
      if (!url.empty()) {
        out_ += "\"@type\":";
        append_string(out_, url);
      }
      out_ += '}';
      return true;
    }
    Packed* packed = packed_message(url);
    if (packed == nullptr) return false;
    // A value nested in a value of the same type gets a message of its own.
    std::unique_ptr<pb::Message> nested(packed->busy ? packed->message->New() : nullptr);
    pb::Message* inner = nested ? nested.get() : packed->message.get();
    if (!nested) packed->busy = true;
    struct Release {
      Packed* p;
      bool owned;
      ~Release() {
        if (owned) p->busy = false;
      }
    } release{packed, !nested};
    // Left to protobuf: a value with invalid UTF-8, which it prints (dropping
    // the bad bytes) and ParseFromString refuses, and one with unknown fields,
    // which it skips, so that a value made only of them prints no fields.
    if (!inner->ParseFromString(value)) return false;
    if (!inner->GetReflection()->GetUnknownFields(*inner).empty()) return false;
    out_ += "{\"@type\":";
    append_string(out_, url);
    if (!fields(*inner, false, depth + 1)) return false;
    out_ += '}';
    return true;
  }

  // A message of the type `url` names, to parse an Any's value into: one per type and
  // thread, reused (a push's body is parsed without allocating once its strings have
  // grown). Null for a url that names no generated proto3 message. Only resolved types
  // are kept, so the cache is bounded by the types compiled in.
  struct Packed {
    std::unique_ptr<pb::Message> message;
    bool busy = false;  // being printed (an Any inside it may name the same type)
  };
  static Packed* packed_message(std::string_view url) {
    thread_local StringMap<Packed> by_url;
    if (auto it = by_url.find(url); it != by_url.end()) return &it->second;
    if (!url.starts_with(kTypeUrlPrefix)) return nullptr;
    const pb::Descriptor* packed =
        pb::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(url.substr(kTypeUrlPrefix.size())));
    if (packed == nullptr || !prints_as_fields(packed)) return nullptr;
    const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(packed);
    if (prototype == nullptr) return nullptr;
    return &by_url.emplace(std::string(url), Packed{std::unique_ptr<pb::Message>(prototype->New())}).first->second;
  }

  std::string& out_;
};

}  // namespace

std::string protobuf_json(const pb::Message& message) {
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)pb::util::MessageToJsonString(message, &out, options);
  return out;
}

bool append_json(const pb::Message& message, std::string& out) {
  // Any resolves packed types in the generated pool, as protobuf does for
  // generated messages only.
  if (message.GetDescriptor()->file()->pool() != pb::DescriptorPool::generated_pool()) return false;
  return JsonPrinter(out).message(message, 0);
}

void print_json_into(const pb::Message& message, std::string& out) {
  out.clear();
  if (!append_json(message, out)) out = protobuf_json(message);
}

std::string print_json(const pb::Message& message) {
  thread_local std::string buffer;
  buffer.clear();
  std::string json = append_json(message, buffer) ? buffer : protobuf_json(message);
  if (buffer.capacity() > kKeptBufferBytes) std::string().swap(buffer);
  return json;
}

}  // namespace alliance::gateway
