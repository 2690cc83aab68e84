// The gateway's JSON printer against protobuf's own converter: every message type
// in proto/alliance filled with seeded random contents must print the same bytes
// as MessageToJsonString (preserve_proto_field_names, always_print_primitive_fields).
#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
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
#include "random_messages.hpp"
#include "src/json_print.hpp"

namespace alliance::gateway {
namespace {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;

constexpr int kInstancesPerType = 300;

std::string fast_json(const pb::Message& m, bool* handled = nullptr) {
  std::string out;
  const bool ok = append_json(m, out);
  if (handled) *handled = ok;
  return out;
}

using test_messages::alliance_message_types;
using test_messages::QuietProtobufLog;
using test_messages::RandomFiller;

TEST(JsonPrint, CoversEveryAllianceProto) {
  auto types = alliance_message_types();
  std::set<std::string> files;
  for (const auto* d : types) files.insert(d->file()->name());
  EXPECT_GE(files.size(), 6u);  // rpc, push, identity, scheduling, messaging, reminders
  EXPECT_GT(types.size(), 150u);
  // Each file's imports from alliance/ are covered too.
  for (const auto* d : types) {
    for (int i = 0; i < d->file()->dependency_count(); ++i) {
      const auto& dep = d->file()->dependency(i)->name();
      if (dep.rfind("alliance/", 0) == 0) {
        EXPECT_TRUE(files.count(dep)) << dep;
      }
    }
  }
}

TEST(JsonPrint, MatchesProtobufForRandomInstancesOfEveryType) {
  QuietProtobufLog quiet;
  const auto types = alliance_message_types();
  int compared = 0;
  int mismatches = 0;
  for (const pb::Descriptor* d : types) {
    const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(d);
    ASSERT_NE(prototype, nullptr) << d->full_name();
    const uint64_t seed = std::hash<std::string>{}(d->full_name());
    RandomFiller filler(seed, types);
    for (int n = 0; n <= kInstancesPerType; ++n) {
      std::unique_ptr<pb::Message> m(prototype->New());
      if (n > 0) filler.fill(*m, 0, false);  // instance 0 is all defaults
      bool handled = false;
      const std::string fast = fast_json(*m, &handled);
      const std::string expected = protobuf_json(*m);
      ++compared;
      if (handled && fast == expected && print_json(*m) == expected) continue;
      ++mismatches;
      ADD_FAILURE() << d->full_name() << " instance " << n << " (seed " << seed << ")"
                    << (handled ? "" : ": the fast path declined it") << "\n  protobuf: " << expected
                    << "\n  printer:  " << fast;
      if (mismatches >= 5) return;
    }
  }
  EXPECT_GT(compared, 150 * kInstancesPerType);
}

TEST(JsonPrint, PushFrameWithANoticeBody) {
  push::v1::Notice notice;
  notice.set_text("Ann's <b>\"5 min\"</b> & co\\\n\u2028\u00e9");
  push::v1::PushFrame frame;
  frame.set_id("p-1");
  frame.set_type("notice");
  frame.set_sent_unix_ms(1700000000123);
  frame.mutable_body()->PackFrom(notice);
  const std::string expected =
      R"({"id":"p-1","type":"notice","sent_unix_ms":"1700000000123","body":)"
      R"({"@type":"type.googleapis.com/alliance.push.v1.Notice",)"
      R"("text":"Ann's \u003cb\u003e\"5 min\"\u003c/b\u003e & co\\\n\u2028)"
      "\u00e9\"}}";
  EXPECT_EQ(print_json(frame), expected);
  EXPECT_EQ(protobuf_json(frame), expected);
}

// The printer parses an Any's value into one reused message per type: a value of the
// same type inside it, and a shorter value after a longer one, must still print exactly.
TEST(JsonPrint, AnyOfTheSameTypeInsideAnyAndOneAfterAnother) {
  push::v1::Notice notice;
  notice.set_text("innermost");
  push::v1::PushFrame inner;
  inner.set_id("inner");
  inner.mutable_body()->PackFrom(notice);
  push::v1::PushFrame middle;
  middle.set_id("middle");
  middle.mutable_body()->PackFrom(inner);
  push::v1::PushFrame outer;
  outer.set_id("outer");
  outer.mutable_body()->PackFrom(middle);
  EXPECT_EQ(print_json(outer), protobuf_json(outer));
  EXPECT_NE(print_json(outer).find(R"("id":"inner")"), std::string::npos);

  push::v1::PushFrame shorter;
  shorter.set_type("t");
  push::v1::PushFrame after;
  after.mutable_body()->PackFrom(shorter);  // no id inside: "id":"" again, not "middle"
  EXPECT_EQ(print_json(after), protobuf_json(after));
  EXPECT_EQ(print_json(after).find("middle"), std::string::npos);
}

TEST(JsonPrint, DefaultsIntegersEnumsAndBytes) {
  rpc::v1::Frame frame;
  EXPECT_EQ(print_json(frame),
            R"({"call_id":"0","method":"","timeout_ms":0,"status":"OK","error_message":"","error_field":"",)"
            R"("retry_after_ms":0,"payload":""})");
  frame.set_call_id(std::numeric_limits<uint64_t>::max());
  frame.set_timeout_ms(std::numeric_limits<uint32_t>::max());
  frame.mutable_caller()->set_user_id("u1");
  frame.set_status(static_cast<rpc::v1::StatusCode>(42));
  frame.set_payload(std::string("\0\xff\xfe", 3));
  frame.set_retry_after_ms(5);
  EXPECT_EQ(print_json(frame),
            R"({"call_id":"18446744073709551615","method":"","timeout_ms":4294967295,)"
            R"("caller":{"user_id":"u1","practice_id":"","role":"","session_id":"","source_address":""},)"
            R"("status":42,"error_message":"","error_field":"","retry_after_ms":5,"payload":"AP/+"})");
  frame.set_status(rpc::v1::NOT_FOUND);
  frame.set_payload("ab");
  EXPECT_NE(print_json(frame).find(R"("status":"NOT_FOUND")"), std::string::npos);
  EXPECT_NE(print_json(frame).find(R"("payload":"YWI=")"), std::string::npos);

  identity::v1::ListUsersResponse empty_list;
  EXPECT_EQ(print_json(empty_list), R"({"users":[]})");
}

TEST(JsonPrint, AnyWithoutValuePrintsNoFields) {
  QuietProtobufLog quiet;  // protobuf warns that it cannot resolve example.org/not.Known
  push::v1::PushFrame frame;
  frame.mutable_body();
  EXPECT_EQ(print_json(frame), R"({"id":"","type":"","sent_unix_ms":"0","body":{}})");
  frame.mutable_body()->PackFrom(push::v1::Notice());
  EXPECT_EQ(print_json(frame),
            R"({"id":"","type":"","sent_unix_ms":"0","body":{"@type":"type.googleapis.com/alliance.push.v1.Notice"}})");
  frame.mutable_body()->set_type_url("example.org/not.Known");
  EXPECT_EQ(print_json(frame), R"({"id":"","type":"","sent_unix_ms":"0","body":{"@type":"example.org/not.Known"}})");
  EXPECT_EQ(protobuf_json(frame), print_json(frame));
}

TEST(JsonPrint, WhatTheFastPathDeclinesStillPrintsAsProtobufDoes) {
  QuietProtobufLog quiet;
  push::v1::Notice invalid_utf8;
  invalid_utf8.set_text("bad \xc3( byte");
  push::v1::PushFrame frame;
  std::vector<std::pair<std::string, std::string>> anys = {
      {"type.googleapis.com/alliance.push.v1.NoSuchType", "\x0a\x01x"},
      {"example.org/alliance.push.v1.Notice", "\x0a\x01x"},
      {"", "\x0a\x01x"},
      {"type.googleapis.com/alliance.push.v1.Notice", invalid_utf8.SerializeAsString()},
      {"type.googleapis.com/alliance.push.v1.Notice", "\x10\x05"},  // only an unknown field
      {"type.googleapis.com/alliance.push.v1.Notice", "\x0a\x05x"},  // truncated
  };
  for (const auto& [url, value] : anys) {
    frame.mutable_body()->set_type_url(url);
    frame.mutable_body()->set_value(value);
    bool handled = true;
    fast_json(frame, &handled);
    EXPECT_FALSE(handled) << url;
    EXPECT_EQ(print_json(frame), protobuf_json(frame)) << url;
  }

  // Deeper than the printer follows: each frame packed in the next one's body.
  push::v1::PushFrame deep;
  deep.set_id("innermost");
  for (int i = 0; i < 40; ++i) {
    push::v1::PushFrame outer;
    outer.set_id("level " + std::to_string(i));
    outer.mutable_body()->PackFrom(deep);
    deep = outer;
  }
  bool handled = true;
  fast_json(deep, &handled);
  EXPECT_FALSE(handled);
  EXPECT_EQ(print_json(deep), protobuf_json(deep));

  pb::Any top;  // a well-known type at the top prints as protobuf does too
  top.PackFrom(invalid_utf8);
  EXPECT_EQ(print_json(top), protobuf_json(top));
}

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xe0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

void expect_same_string_rendering(const std::string& text) {
  push::v1::Notice notice;
  notice.set_text(text);
  bool handled = false;
  const std::string fast = fast_json(notice, &handled);
  const std::string expected = protobuf_json(notice);
  EXPECT_TRUE(handled);
  if (fast == expected) return;
  size_t at = 0;
  while (at < fast.size() && at < expected.size() && fast[at] == expected[at]) ++at;
  const size_t from = at < 40 ? 0 : at - 40;
  ADD_FAILURE() << "first difference at byte " << at << "\n  protobuf: " << expected.substr(from, 80)
                << "\n  printer:  " << fast.substr(from, 80);
}

TEST(JsonPrint, EscapesEveryCodePointAsProtobufDoes) {
  QuietProtobufLog quiet;
  std::string all;
  for (uint32_t cp = 0; cp <= 0x10ffff; ++cp) all += utf8(cp);  // surrogates too: those are invalid UTF-8
  for (uint32_t cp = 0x110000; cp < 0x200000; cp += 0x1001) all += utf8(cp);
  expect_same_string_rendering(all);
}

TEST(JsonPrint, MalformedUtf8IsDroppedAsProtobufDropsIt) {
  QuietProtobufLog quiet;
  std::string pairs;  // every two bytes, then a lead and a continuation before every byte
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; ++b) {
      pairs += static_cast<char>(a);
      pairs += static_cast<char>(b);
    }
  expect_same_string_rendering(pairs);
  std::string triples;
  for (int lead = 0xe0; lead < 0x100; lead += 3)
    for (int cont = 0x80; cont < 0xc0; cont += 7)
      for (int c = 0; c < 256; ++c) {
        triples += static_cast<char>(lead);
        triples += static_cast<char>(cont);
        triples += static_cast<char>(c);
      }
  expect_same_string_rendering(triples);
  for (const char* text : {"end \xe2\x82", "end \xc3", "end \xf0\x9f\x98", "\xc0\x80\xc0\xa2\xc1\x9c\xc1\xbf"})
    expect_same_string_rendering(text);
}

}  // namespace
}  // namespace alliance::gateway
