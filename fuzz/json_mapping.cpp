// The gateway's JSON-to-protobuf mapping for every request message of the public API.
// Must hold: whatever it accepts prints back to JSON that it accepts again, to the same
// message (a body is never half applied or read two ways).
#include <fuzzer/FuzzedDataProvider.h>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "alliance/identity/v1/identity.pb.h"
#include "alliance/messaging/v1/messaging.pb.h"
#include "alliance/reminders/v1/reminders.pb.h"
#include "alliance/scheduling/v1/scheduling.pb.h"
#include "json_mapping.hpp"

namespace {

// Every *Request message of the services' public packages.
std::vector<std::string> request_types() {
  std::vector<std::string> out;
  for (const auto* file : {alliance::identity::v1::Practice::descriptor()->file(),
                           alliance::scheduling::v1::Appointment::descriptor()->file(),
                           alliance::messaging::v1::SendMessageRequest::descriptor()->file(),
                           alliance::reminders::v1::AckReminderRequest::descriptor()->file()}) {
    for (int i = 0; i < file->message_type_count(); ++i) {
      const std::string& name = file->message_type(i)->full_name();
      if (name.size() > 7 && name.ends_with("Request")) out.push_back(name);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> kTypes = request_types();
  FuzzedDataProvider in(data, size);
  const std::string& type = kTypes[in.ConsumeIntegralInRange<std::size_t>(0, kTypes.size() - 1)];
  const bool as_query = in.ConsumeBool();
  const std::string text = in.ConsumeRemainingBytesAsString();
  auto message = alliance::gateway::new_message(type);
  if (!message) std::abort();
  const auto status = as_query ? alliance::gateway::query_to_message(text, *message)
                               : alliance::gateway::json_to_message(text, *message);
  if (!status) {
    if (status.error().message.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  const std::string printed = alliance::gateway::message_to_json(*message);
  auto again = alliance::gateway::new_message(type);
  if (!alliance::gateway::json_to_message(printed, *again)) std::abort();
  if (!google::protobuf::util::MessageDifferencer::Equals(*message, *again)) std::abort();
  return 0;
}
