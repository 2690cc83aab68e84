#pragma once
// Protobuf at the edge for check-ins: rows as the messages clients, therapists and
// admins see, the "checkin.due" and "checkin.alert" push frames, and the client's
// answer read back into domain types. Pure functions, any thread.
#include <cstdint>
#include <string_view>

#include "alliance/push/v1/push.pb.h"
#include "alliance/reminders/v1/reminders.pb.h"
#include "checkin_store.hpp"

namespace alliance::reminders {

inline constexpr std::string_view kCheckinDue = "checkin.due";
inline constexpr std::string_view kCheckinAlert = "checkin.alert";

v1::CheckinDue render_checkin_due(const CheckinRow& row);
// PushFrame id == checkin id (clients de-duplicate by it).
push::v1::PushFrame checkin_due_frame(const CheckinRow& row, std::int64_t now_ms);
// Ids and reasons only: the scores stay in the service (GET /v1/me/check-in-alerts).
push::v1::PushFrame checkin_alert_frame(const AlertRow& alert, std::int64_t now_ms);

v1::Checkin to_proto(const CheckinRow& row);
v1::CheckinAlert to_proto(const AlertRow& alert);
v1::CheckinPolicy to_proto(const PolicyOfCheckins& policy);

SealedComment comment_of(const v1::SealedComment& comment);

}  // namespace alliance::reminders
