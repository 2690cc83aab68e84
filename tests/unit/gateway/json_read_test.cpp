// The gateway's direct JSON reader against protobuf's own parser: whatever the reader
// accepts must give the very message JsonStringToMessage makes of the same text, for
// every message type in proto/alliance with seeded random contents and with bodies
// bent the ways clients bend them (numbers for strings, other base64 alphabets, nulls,
// a field named twice); what it declines still ends as protobuf decides.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>
#include <string>

#include "alliance/identity/v1/identity.pb.h"
#include "alliance/messaging/v1/messaging.pb.h"
#include "random_messages.hpp"
#include "src/json_mapping.hpp"
#include "src/json_read.hpp"

namespace alliance::gateway {
namespace {

namespace pb = google::protobuf;
namespace json = boost::json;
using test_messages::alliance_message_types;
using test_messages::QuietProtobufLog;
using test_messages::RandomFiller;

constexpr int kInstancesPerType = 100;

// protobuf's parse of `body` into a fresh `type`: its bytes, or nullopt if refused.
std::optional<std::string> protobuf_parse(const pb::Message& type, const std::string& body) {
  std::unique_ptr<pb::Message> m(type.New());
  pb::util::JsonParseOptions options;
  if (!pb::util::JsonStringToMessage(body, m.get(), options).ok()) return std::nullopt;
  return m->SerializeAsString();
}

// The property under test, for one body: if the direct reader takes it, protobuf takes
// it too and makes the same message; and json_to_message, which falls back to protobuf,
// agrees with protobuf whenever the body passes the structural check.
struct Outcome {
  bool read = false;     // the direct reader took it
  bool agreed = true;
  std::string why;
};

Outcome compare(const pb::Message& type, const std::string& body) {
  Outcome out;
  const auto expected = protobuf_parse(type, body);
  json::value v = json::parse(body);
  std::unique_ptr<pb::Message> direct(type.New());
  out.read = read_json_object(v.as_object(), *direct);
  if (out.read && (!expected || *expected != direct->SerializeAsString())) {
    out.agreed = false;
    out.why = expected ? "the reader made another message" : "the reader took what protobuf refuses";
    return out;
  }
  std::unique_ptr<pb::Message> mapped(type.New());
  Status s = json_to_message(body, *mapped);
  if (s && (!expected || *expected != mapped->SerializeAsString())) {
    out.agreed = false;
    out.why = "json_to_message differs from protobuf";
  }
  return out;
}

// Changes one leaf of a printed message the way a client could: the same value spelled
// otherwise, or something protobuf refuses.
class Bender {
 public:
  explicit Bender(std::uint64_t seed) : rng_(seed) {}

  // Bends each leaf with a small chance; returns true if anything changed.
  bool bend(json::value& v, const pb::Descriptor* d) {
    bool changed = false;
    if (!v.is_object()) return false;
    auto& object = v.as_object();
    std::vector<std::pair<std::string, json::value>> extra;
    for (auto& entry : object) {
      const pb::FieldDescriptor* f = d->FindFieldByName(std::string(entry.key()));
      if (f == nullptr) continue;
      if (f->is_repeated() && entry.value().is_array()) {
        for (auto& item : entry.value().as_array()) changed |= bend_leaf(item, f);
      } else {
        changed |= bend_leaf(entry.value(), f);
      }
      if (pick(0, 40) == 0) {  // the field again under its JSON name (or the same name)
        extra.emplace_back(f->json_name(), entry.value());
        changed = true;
      }
    }
    for (auto& [key, value] : extra) object[key] = value;  // same key: replaces (as boost::json's parse keeps the last)
    return changed;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  bool bend_leaf(json::value& v, const pb::FieldDescriptor* f) {
    using FD = pb::FieldDescriptor;
    if (f->cpp_type() == FD::CPPTYPE_MESSAGE) return f->message_type()->file()->package() != "google.protobuf" &&
                                                   bend(v, f->message_type());
    if (pick(0, 6) != 0) return false;
    if (pick(0, 15) == 0) {
      v = nullptr;
      return true;
    }
    switch (f->cpp_type()) {
      case FD::CPPTYPE_INT32:
      case FD::CPPTYPE_UINT32:
      case FD::CPPTYPE_INT64:
      case FD::CPPTYPE_UINT64: {
        std::string text = v.is_string() ? std::string(v.as_string()) : json::serialize(v);
        switch (pick(0, 9)) {
          case 0: v = json::string(text); break;                       // a string
          case 1: v = json::parse(text); break;                        // a number
          case 2: v = json::string("+" + text); break;
          case 3: v = json::string(" " + text); break;
          case 4: v = json::string("0" + text); break;
          case 5: v = json::string("-0"); break;
          case 6: v = 1.0; break;
          case 7: v = json::string("99999999999999999999"); break;
          case 8: v = std::int64_t{-1}; break;
          default: v = std::int64_t{4294967296}; break;
        }
        return true;
      }
      case FD::CPPTYPE_ENUM: {
        const auto* e = f->enum_type()->value(pick(0, f->enum_type()->value_count() - 1));
        switch (pick(0, 3)) {
          case 0: v = std::int64_t{e->number()}; break;
          case 1: v = json::string(e->name()); break;
          case 2: {
            std::string lower = e->name();
            for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            v = json::string(lower);
            break;
          }
          default: v = json::string("NO_SUCH_VALUE"); break;
        }
        return true;
      }
      case FD::CPPTYPE_STRING: {
        if (f->type() != FD::TYPE_BYTES || !v.is_string()) {
          if (pick(0, 3) == 0) v = std::int64_t{7};
          return true;
        }
        std::string b64(v.as_string());
        switch (pick(0, 5)) {
          case 0:  // unpadded
            while (!b64.empty() && b64.back() == '=') b64.pop_back();
            break;
          case 1:  // URL-safe alphabet
            for (auto& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
            break;
          case 2: b64.insert(b64.size() / 2, " "); break;
          case 3: b64 += "="; break;
          case 4:  // non-zero trailing bits
            if (!b64.empty() && b64.back() == '=') {
              auto at = b64.find('=');
              if (at > 0) b64[at - 1] = b64[at - 1] == 'B' ? 'C' : 'B';
            }
            break;
          default: b64 = "!!"; break;
        }
        v = json::string(b64);
        return true;
      }
      case FD::CPPTYPE_BOOL:
        v = pick(0, 1) ? json::value(json::string("true")) : json::value(std::int64_t{1});
        return true;
      default:
        return false;
    }
  }

  std::mt19937_64 rng_;
};

TEST(JsonRead, MatchesProtobufForRandomInstancesOfEveryType) {
  QuietProtobufLog quiet;
  const auto types = alliance_message_types();
  int compared = 0, read = 0, bent = 0, failures = 0;
  for (const pb::Descriptor* d : types) {
    const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(d);
    ASSERT_NE(prototype, nullptr) << d->full_name();
    const uint64_t seed = std::hash<std::string>{}(d->full_name());
    RandomFiller filler(seed, types);
    Bender bender(seed);
    for (int n = 0; n <= kInstancesPerType; ++n) {
      std::unique_ptr<pb::Message> m(prototype->New());
      if (n > 0) filler.fill(*m, 0, true);
      pb::util::JsonPrintOptions print;
      print.preserve_proto_field_names = n % 2 == 0;  // camelCase names on odd instances
      print.always_print_primitive_fields = n % 3 != 0;
      std::string body;
      ASSERT_TRUE(pb::util::MessageToJsonString(*m, &body, print).ok());
      std::vector<std::string> bodies = {body};
      json::value v = json::parse(body);
      if (print.preserve_proto_field_names && bender.bend(v, d)) {
        bodies.push_back(json::serialize(v));
        ++bent;
      }
      for (const auto& b : bodies) {
        auto outcome = compare(*prototype, b);
        ++compared;
        read += outcome.read;
        if (outcome.agreed) continue;
        ADD_FAILURE() << d->full_name() << " instance " << n << ": " << outcome.why << "\n  body: " << b;
        if (++failures >= 5) return;
      }
    }
  }
  EXPECT_GT(compared, 150 * kInstancesPerType);
  EXPECT_GT(bent, 1000);
  EXPECT_GT(read, compared / 2);  // the reader does take the common bodies
}

TEST(JsonRead, ASendMessageBodyIsReadDirectly) {
  const std::string body =
      R"({"conversation_id":"c-1","message_id":"m-1","sender_device_id":"d-1","ciphertext":"AP/+YWI=",)"
      R"("keys":[{"device_id":"d-2","wrapped_key":"YWJj"},{"device_id":"d-3","wrapped_key":""}]})";
  messaging::v1::SendMessageRequest req;
  ASSERT_TRUE(read_json_object(json::parse(body).as_object(), req));
  EXPECT_EQ(req.ciphertext(), std::string("\0\xff\xfe" "ab", 5));
  ASSERT_EQ(req.keys_size(), 2);
  EXPECT_EQ(req.keys(0).wrapped_key(), "abc");
  EXPECT_EQ(req.keys(1).device_id(), "d-3");
  EXPECT_EQ(req.SerializeAsString(), *protobuf_parse(req, body));
}

// Bytes of every length up to a few groups, and a 2 KiB ciphertext: each padding, each
// position of the last partial group, decoded to the bytes protobuf makes of the text.
TEST(JsonRead, BytesOfEveryLengthDecodeAsProtobufDecodesThem) {
  std::mt19937_64 rng(7);
  for (std::size_t n = 0; n <= 2048; n = n < 40 ? n + 1 : n * 2) {
    std::string bytes(n, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng());
    messaging::v1::SendMessageRequest sent;
    sent.set_ciphertext(bytes);
    std::string body;
    ASSERT_TRUE(pb::util::MessageToJsonString(sent, &body).ok());
    messaging::v1::SendMessageRequest req;
    ASSERT_TRUE(read_json_object(json::parse(body).as_object(), req)) << body;
    EXPECT_EQ(req.ciphertext(), bytes) << n;
    EXPECT_EQ(req.SerializeAsString(), *protobuf_parse(req, body)) << n;
  }
}

TEST(JsonRead, DeclinesWhatProtobufWouldWordOrSpellOtherwise) {
  identity::v1::CreateUserRequest user;
  for (std::string_view body : {R"({"email":null})", R"({"display_name":"a","displayName":"b"})",
                                R"({"role":"client","email":"x","display_name":"y","unknown":1})"}) {
    user.Clear();
    EXPECT_FALSE(read_json_object(json::parse(body).as_object(), user)) << body;
  }
  messaging::v1::SendMessageRequest send;
  for (std::string_view body :
       {R"({"ciphertext":"YWI"})", R"({"ciphertext":"YW-_"})", R"({"ciphertext":"YWJ="})", R"({"ciphertext":"YR=="})",
        R"({"ciphertext":"=AAA"})", R"({"ciphertext":"AAAA=AAA"})", R"({"ciphertext":"AA=A"})",
        R"({"ciphertext":"===="})", R"({"ciphertext":"A\u0000AA"})"}) {
    send.Clear();
    EXPECT_FALSE(read_json_object(json::parse(body).as_object(), send)) << body;
  }
}

TEST(JsonRead, ErrorsStillNameTheFieldThroughTheFallback) {
  messaging::v1::SendMessageRequest send;
  auto bad_base64 = json_to_message(R"({"ciphertext":"!!"})", send);
  ASSERT_FALSE(bad_base64);
  EXPECT_EQ(bad_base64.error().field, "body");
  auto nested = json_to_message(R"({"keys":[{"device_id":"d"},{"device_id":5}]})", send);
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error().field, "keys[1].device_id");
  EXPECT_EQ(nested.error().message, "keys[1].device_id: expected a string");
}

}  // namespace
}  // namespace alliance::gateway
