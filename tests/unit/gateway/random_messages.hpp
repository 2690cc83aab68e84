#pragma once
// Shared by the JSON printer's and reader's tests: every alliance message type linked
// into the test, and seeded random contents for any of them.
#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "alliance/identity/v1/identity.pb.h"
#include "alliance/messaging/v1/messaging.pb.h"
#include "alliance/push/v1/push.pb.h"
#include "alliance/reminders/v1/reminders.pb.h"
#include "alliance/rpc/v1/rpc.pb.h"
#include "alliance/scheduling/v1/scheduling.pb.h"

namespace alliance::gateway::test_messages {

namespace pb = google::protobuf;

inline constexpr int kMaxFillDepth = 3;

// Protobuf logs each invalid UTF-8 string it serialises; these tests make plenty.
class QuietProtobufLog {
 public:
  QuietProtobufLog() : previous_(pb::SetLogHandler(&discard)) {}
  ~QuietProtobufLog() { pb::SetLogHandler(previous_); }

 private:
  static void discard(pb::LogLevel, const char*, int, const std::string&) {}
  pb::LogHandler* previous_;
};

inline void add_with_nested(const pb::Descriptor* d, std::vector<const pb::Descriptor*>& out) {
  out.push_back(d);
  for (int i = 0; i < d->nested_type_count(); ++i) add_with_nested(d->nested_type(i), out);
}

// Every message type of every alliance/*.proto linked into this test. The types
// named here pull each generated file in; the generated database then lists
// them, and any file added later that something links.
inline std::vector<const pb::Descriptor*> alliance_message_types() {
  const pb::Descriptor* linked[] = {
      rpc::v1::Frame::descriptor(),         push::v1::PushFrame::descriptor(),
      identity::v1::Practice::descriptor(), scheduling::v1::AppointmentType::descriptor(),
      messaging::v1::Conversation::descriptor(), reminders::v1::ReminderDue::descriptor()};
  std::set<std::string> names;
  for (const auto* d : linked) names.insert(d->file()->name());
  std::vector<std::string> all;
  pb::DescriptorPool::internal_generated_database()->FindAllFileNames(&all);
  for (const auto& name : all)
    if (name.rfind("alliance/", 0) == 0) names.insert(name);
  std::vector<const pb::Descriptor*> out;
  for (const auto& name : names) {
    const pb::FileDescriptor* file = pb::DescriptorPool::generated_pool()->FindFileByName(name);
    if (!file) continue;
    for (int i = 0; i < file->message_type_count(); ++i) add_with_nested(file->message_type(i), out);
  }
  return out;
}

// Seeded random contents for any message of these protos: strings with escapes,
// control characters, non-ASCII and (outside Any values) invalid UTF-8, extreme
// integers, unknown enum numbers, bytes of every value, empty and full repeated
// fields, sub-messages to depth 3 and Anys packing real messages.
class RandomFiller {
 public:
  using FD = pb::FieldDescriptor;

  RandomFiller(uint64_t seed, const std::vector<const pb::Descriptor*>& types) : rng_(seed), types_(types) {}

  void fill(pb::Message& m, int depth, bool valid_utf8) {
    const pb::Descriptor* d = m.GetDescriptor();
    const pb::Reflection* r = m.GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const FD* f = d->field(i);
      if (f->is_repeated()) {
        const int count = chance(30) ? 0 : pick(1, 3);
        for (int j = 0; j < count; ++j) put(m, r, f, depth, valid_utf8);
      } else if (f->cpp_type() == FD::CPPTYPE_MESSAGE) {
        if (chance(depth < kMaxFillDepth ? 70 : 20)) put(m, r, f, depth, valid_utf8);  // unset otherwise
      } else if (chance(75)) {
        put(m, r, f, depth, valid_utf8);
      }
    }
  }

 private:
  bool chance(int percent) { return pick(0, 99) < percent; }
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  T any_of(std::initializer_list<T> values) {
    return *(values.begin() + pick(0, static_cast<int>(values.size()) - 1));
  }

  void fill_message(pb::Message& m, int depth, bool valid_utf8) {
    if (m.GetDescriptor()->well_known_type() == pb::Descriptor::WELLKNOWNTYPE_ANY) {
      fill_any(static_cast<pb::Any&>(m), depth);
    } else if (!chance(10)) {
      fill(m, depth, valid_utf8);
    }
  }

  void fill_any(pb::Any& any, int depth) {
    switch (pick(0, 4)) {
      case 0:  // empty
        return;
      case 1:  // a type and no value
        any.set_type_url(any_of<std::string>({"type.googleapis.com/alliance.push.v1.Notice", "example.org/some.Type"}));
        return;
      case 2:  // a real message with all fields default
        any.PackFrom(push::v1::SessionRevoked());
        return;
      default: {  // a real message of any type, random contents
        const pb::Descriptor* d = types_[pick(0, static_cast<int>(types_.size()) - 1)];
        std::unique_ptr<pb::Message> inner(pb::MessageFactory::generated_factory()->GetPrototype(d)->New());
        fill(*inner, depth, true);
        any.PackFrom(*inner);
      }
    }
  }

  std::string text(bool valid_utf8) {
    static const std::vector<std::string> kValid = {
        "a", "Hello", " ", "0", "\"", "\\", "/", "<", ">", "&", "'", std::string(1, '\0'), "\x01", "\x1f", "\b",
        "\t", "\n", "\f", "\r", "\x0b", "\x7f", "\u00e9", "\u00ad", "\u0085", "\u009f", "\u00a0", "\u2028", "\u2029",
        "\u200b", "\u202e", "\ufeff", "\ufffb", "\u65e5\u672c", "\U0001F600", "\U000E0041", "\U0001D173"};
    static const std::vector<std::string> kInvalid = {
        "\xff", "\xc3", "\xc3(", "\xe2\x82", "\xe2\x82(", "\xed\xa0\x80", "\xc0\x80", "\xc0\xbc", "\xc1\xbc",
        "\xf4\x90\x80\x80", "\x80", "\xbf\xbf", "\xf8\x88\x80\x80\x80", "\xf0\x9f\x98"};
    std::string s;
    const int pieces = chance(15) ? 0 : pick(1, 8);
    for (int i = 0; i < pieces; ++i) {
      if (!valid_utf8 && chance(20)) {
        s += kInvalid[pick(0, static_cast<int>(kInvalid.size()) - 1)];
      } else {
        s += kValid[pick(0, static_cast<int>(kValid.size()) - 1)];
      }
    }
    return s;
  }

  std::string bytes() {
    std::string b;
    if (chance(20)) {
      for (int v = 0; v < 256; ++v) b += static_cast<char>(v);
      return b;
    }
    const int n = any_of({0, 1, 2, 3, 4, 5, pick(6, 40)});
    for (int i = 0; i < n; ++i) b += static_cast<char>(pick(0, 255));
    return b;
  }

  int32_t int32() {
    return any_of<int32_t>({0, 1, -1, -123456, std::numeric_limits<int32_t>::min(),
                            std::numeric_limits<int32_t>::max(), static_cast<int32_t>(rng_())});
  }
  int64_t int64() {
    return any_of<int64_t>({0, 1, -1, 1700000000123, std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::max(), static_cast<int64_t>(rng_())});
  }
  uint32_t uint32() {
    return any_of<uint32_t>({0, 1, 1000, std::numeric_limits<uint32_t>::max(), static_cast<uint32_t>(rng_())});
  }
  uint64_t uint64() { return any_of<uint64_t>({0, 1, 1000, std::numeric_limits<uint64_t>::max(), rng_()}); }
  int enum_number(const FD* f) {
    if (chance(20)) return any_of({77, -5, std::numeric_limits<int32_t>::max()});
    return f->enum_type()->value(pick(0, f->enum_type()->value_count() - 1))->number();
  }

  // Sets a singular field, or adds one element to a repeated one.
  void put(pb::Message& m, const pb::Reflection* r, const FD* f, int depth, bool valid_utf8) {
    const bool add = f->is_repeated();
    switch (f->cpp_type()) {
      case FD::CPPTYPE_INT32: add ? r->AddInt32(&m, f, int32()) : r->SetInt32(&m, f, int32()); break;
      case FD::CPPTYPE_INT64: add ? r->AddInt64(&m, f, int64()) : r->SetInt64(&m, f, int64()); break;
      case FD::CPPTYPE_UINT32: add ? r->AddUInt32(&m, f, uint32()) : r->SetUInt32(&m, f, uint32()); break;
      case FD::CPPTYPE_UINT64: add ? r->AddUInt64(&m, f, uint64()) : r->SetUInt64(&m, f, uint64()); break;
      case FD::CPPTYPE_BOOL: add ? r->AddBool(&m, f, chance(50)) : r->SetBool(&m, f, chance(50)); break;
      case FD::CPPTYPE_ENUM:
        add ? r->AddEnumValue(&m, f, enum_number(f)) : r->SetEnumValue(&m, f, enum_number(f));
        break;
      case FD::CPPTYPE_STRING: {
        std::string v = f->type() == FD::TYPE_BYTES ? bytes() : text(valid_utf8);
        add ? r->AddString(&m, f, std::move(v)) : r->SetString(&m, f, std::move(v));
        break;
      }
      case FD::CPPTYPE_MESSAGE: {
        pb::Message* item = add ? r->AddMessage(&m, f) : r->MutableMessage(&m, f);
        if (depth < kMaxFillDepth) fill_message(*item, depth + 1, valid_utf8);
        break;
      }
      default: FAIL() << f->full_name() << ": the filler does not know this field type";
    }
  }

  std::mt19937_64 rng_;
  const std::vector<const pb::Descriptor*>& types_;
};

}  // namespace alliance::gateway::test_messages
