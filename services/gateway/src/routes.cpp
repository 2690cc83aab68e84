#include "routes.hpp"

#include "alliance/identity/v1/identity.pb.h"
#include "alliance/messaging/v1/messaging.pb.h"
#include "alliance/reminders/v1/reminders.pb.h"
#include "alliance/scheduling/v1/scheduling.pb.h"

namespace alliance::gateway {

const std::vector<Route>& public_routes() {
  // Routes name their messages as text. Touching one message of each .proto keeps its
  // generated code linked (a static library drops objects nobody references) and so
  // registered in the descriptor pool the JSON mapping looks names up in.
  [[maybe_unused]] static const bool linked = alliance::identity::v1::LoginRequest::descriptor() != nullptr &&
                                              alliance::scheduling::v1::BookAppointmentRequest::descriptor() != nullptr &&
                                              alliance::messaging::v1::SendMessageRequest::descriptor() != nullptr &&
                                              alliance::reminders::v1::ReminderDue::descriptor() != nullptr;
  static const std::vector<Route> routes = {
      {"POST", "/v1/practices", "identity", "alliance.identity.v1.Identity/CreatePractice",
       "alliance.identity.v1.CreatePracticeRequest", "alliance.identity.v1.CreatePracticeResponse", false,
       201},
      {"POST", "/v1/auth/login", "identity", "alliance.identity.v1.Identity/Login",
       "alliance.identity.v1.LoginRequest", "alliance.identity.v1.TokenResponse", false, 200},
      {"POST", "/v1/auth/refresh", "identity", "alliance.identity.v1.Identity/Refresh",
       "alliance.identity.v1.RefreshRequest", "alliance.identity.v1.TokenResponse", false, 200},
      {"POST", "/v1/auth/logout", "identity", "alliance.identity.v1.Identity/Logout",
       "alliance.identity.v1.LogoutRequest", "alliance.identity.v1.LogoutResponse", true, 200},
      {"GET", "/v1/me", "identity", "alliance.identity.v1.Identity/GetMe", "alliance.identity.v1.GetMeRequest",
       "alliance.identity.v1.GetMeResponse", true, 200},
      {"POST", "/v1/users", "identity", "alliance.identity.v1.Identity/CreateUser",
       "alliance.identity.v1.CreateUserRequest", "alliance.identity.v1.CreateUserResponse", true, 201},
      {"GET", "/v1/users", "identity", "alliance.identity.v1.Identity/ListUsers",
       "alliance.identity.v1.ListUsersRequest", "alliance.identity.v1.ListUsersResponse", true, 200},
      {"POST", "/v1/care-team", "identity", "alliance.identity.v1.Identity/AddCareTeamMember",
       "alliance.identity.v1.AddCareTeamMemberRequest", "alliance.identity.v1.AddCareTeamMemberResponse", true,
       201},
      {"GET", "/v1/care-team", "identity", "alliance.identity.v1.Identity/ListCareTeam",
       "alliance.identity.v1.ListCareTeamRequest", "alliance.identity.v1.ListCareTeamResponse", true, 200},
      {"POST", "/v1/devices", "identity", "alliance.identity.v1.Identity/RegisterDevice",
       "alliance.identity.v1.RegisterDeviceRequest", "alliance.identity.v1.DeviceResponse", true, 201},
      {"GET", "/v1/devices", "identity", "alliance.identity.v1.Identity/ListDevices",
       "alliance.identity.v1.ListDevicesRequest", "alliance.identity.v1.ListDevicesResponse", true, 200},
      {"POST", "/v1/devices/{device_id}/revoke", "identity", "alliance.identity.v1.Identity/RevokeDevice",
       "alliance.identity.v1.RevokeDeviceRequest", "alliance.identity.v1.DeviceResponse", true, 200},
      {"POST", "/v1/devices/{device_id}/approve", "identity", "alliance.identity.v1.Identity/ApproveDevice",
       "alliance.identity.v1.ApproveDeviceRequest", "alliance.identity.v1.DeviceResponse", true, 200},
      {"PUT", "/v1/me/identity-key", "identity", "alliance.identity.v1.Identity/SetIdentityKey",
       "alliance.identity.v1.SetIdentityKeyRequest", "alliance.identity.v1.IdentityKeyResponse", true, 200},
      {"GET", "/v1/users/{user_id}/identity-key", "identity", "alliance.identity.v1.Identity/GetIdentityKey",
       "alliance.identity.v1.GetIdentityKeyRequest", "alliance.identity.v1.IdentityKeyResponse", true, 200},
      {"PUT", "/v1/practice/archive-key", "identity", "alliance.identity.v1.Identity/SetArchiveKey",
       "alliance.identity.v1.SetArchiveKeyRequest", "alliance.identity.v1.ArchiveKeyResponse", true, 200},
      {"GET", "/v1/practice/archive-key", "identity", "alliance.identity.v1.Identity/GetArchiveKey",
       "alliance.identity.v1.GetArchiveKeyRequest", "alliance.identity.v1.ArchiveKeyResponse", true, 200},
      {"GET", "/v1/practices/{practice_id}/clients", "identity", "alliance.identity.v1.Identity/SearchClients",
       "alliance.identity.v1.SearchClientsRequest", "alliance.identity.v1.SearchClientsResponse", true, 200},
      {"GET", "/v1/audit", "identity", "alliance.identity.v1.Identity/QueryAudit",
       "alliance.identity.v1.QueryAuditRequest", "alliance.identity.v1.QueryAuditResponse", true, 200},
      {"GET", "/v1/me/access-log", "identity", "alliance.identity.v1.Identity/GetAccessLog",
       "alliance.identity.v1.GetAccessLogRequest", "alliance.identity.v1.GetAccessLogResponse", true, 200},
      {"PUT", "/v1/users/{user_id}/time-zone", "identity", "alliance.identity.v1.Identity/SetTimeZone",
       "alliance.identity.v1.SetTimeZoneRequest", "alliance.identity.v1.SetTimeZoneResponse", true, 200},
      {"POST", "/v1/users/{user_id}/deactivate", "identity", "alliance.identity.v1.Identity/DeactivateUser",
       "alliance.identity.v1.DeactivateUserRequest", "alliance.identity.v1.UserResponse", true, 200},
      {"POST", "/v1/users/{user_id}/reactivate", "identity", "alliance.identity.v1.Identity/ReactivateUser",
       "alliance.identity.v1.ReactivateUserRequest", "alliance.identity.v1.UserResponse", true, 200},
      {"PUT", "/v1/me/password", "identity", "alliance.identity.v1.Identity/ChangePassword",
       "alliance.identity.v1.ChangePasswordRequest", "alliance.identity.v1.ChangePasswordResponse", true, 200},
      {"PUT", "/v1/practice/policy", "identity", "alliance.identity.v1.Identity/SetPracticePolicy",
       "alliance.identity.v1.SetPracticePolicyRequest", "alliance.identity.v1.PracticeResponse", true, 200},
      {"PUT", "/v1/users/{user_id}/role", "identity", "alliance.identity.v1.Identity/SetRole",
       "alliance.identity.v1.SetRoleRequest", "alliance.identity.v1.UserResponse", true, 200},
      {"PATCH", "/v1/users/{user_id}", "identity", "alliance.identity.v1.Identity/UpdateUser",
       "alliance.identity.v1.UpdateUserRequest", "alliance.identity.v1.UserResponse", true, 200},
      {"POST", "/v1/users/{user_id}/password-reset", "identity", "alliance.identity.v1.Identity/StartPasswordReset",
       "alliance.identity.v1.StartPasswordResetRequest", "alliance.identity.v1.StartPasswordResetResponse", true,
       200},
      {"POST", "/v1/auth/password-reset", "identity", "alliance.identity.v1.Identity/RedeemPasswordReset",
       "alliance.identity.v1.RedeemPasswordResetRequest", "alliance.identity.v1.RedeemPasswordResetResponse",
       false, 200},
      {"POST", "/v1/auth/two-factor", "identity", "alliance.identity.v1.Identity/CompleteTwoFactor",
       "alliance.identity.v1.CompleteTwoFactorRequest", "alliance.identity.v1.TokenResponse", false, 200},
      {"POST", "/v1/auth/two-factor/enroll", "identity", "alliance.identity.v1.Identity/EnrolWithChallenge",
       "alliance.identity.v1.EnrolWithChallengeRequest", "alliance.identity.v1.TwoFactorEnrolmentResponse", false,
       200},
      {"POST", "/v1/me/two-factor/enroll", "identity", "alliance.identity.v1.Identity/StartTwoFactorEnrolment",
       "alliance.identity.v1.StartTwoFactorEnrolmentRequest", "alliance.identity.v1.TwoFactorEnrolmentResponse", true,
       200},
      {"POST", "/v1/me/two-factor/confirm", "identity", "alliance.identity.v1.Identity/ConfirmTwoFactor",
       "alliance.identity.v1.ConfirmTwoFactorRequest", "alliance.identity.v1.ConfirmTwoFactorResponse", true, 200},
      {"POST", "/v1/me/two-factor/disable", "identity", "alliance.identity.v1.Identity/DisableTwoFactor",
       "alliance.identity.v1.DisableTwoFactorRequest", "alliance.identity.v1.TwoFactorStatusResponse", true, 200},
      {"GET", "/v1/me/two-factor", "identity", "alliance.identity.v1.Identity/GetTwoFactorStatus",
       "alliance.identity.v1.GetTwoFactorStatusRequest", "alliance.identity.v1.TwoFactorStatusResponse", true, 200},
      {"POST", "/v1/users/{user_id}/two-factor/reset", "identity", "alliance.identity.v1.Identity/ResetTwoFactor",
       "alliance.identity.v1.ResetTwoFactorRequest", "alliance.identity.v1.UserResponse", true, 200},
      // scheduling
      {"POST", "/v1/appointment-types", "scheduling", "alliance.scheduling.v1.Scheduling/CreateAppointmentType",
       "alliance.scheduling.v1.CreateAppointmentTypeRequest", "alliance.scheduling.v1.CreateAppointmentTypeResponse", true, 201},
      {"GET", "/v1/appointment-types", "scheduling", "alliance.scheduling.v1.Scheduling/ListAppointmentTypes",
       "alliance.scheduling.v1.ListAppointmentTypesRequest", "alliance.scheduling.v1.ListAppointmentTypesResponse", true, 200},
      {"POST", "/v1/locations", "scheduling", "alliance.scheduling.v1.Scheduling/CreateLocation",
       "alliance.scheduling.v1.CreateLocationRequest", "alliance.scheduling.v1.LocationResponse", true, 201},
      {"GET", "/v1/locations", "scheduling", "alliance.scheduling.v1.Scheduling/ListLocations",
       "alliance.scheduling.v1.ListLocationsRequest", "alliance.scheduling.v1.ListLocationsResponse", true, 200},
      {"PUT", "/v1/therapists/{therapist_id}/availability", "scheduling", "alliance.scheduling.v1.Scheduling/SetAvailability",
       "alliance.scheduling.v1.SetAvailabilityRequest", "alliance.scheduling.v1.SetAvailabilityResponse", true, 200},
      {"GET", "/v1/therapists/{therapist_id}/availability", "scheduling", "alliance.scheduling.v1.Scheduling/GetAvailability",
       "alliance.scheduling.v1.GetAvailabilityRequest", "alliance.scheduling.v1.GetAvailabilityResponse", true, 200},
      {"POST", "/v1/therapists/{therapist_id}/time-blocks", "scheduling", "alliance.scheduling.v1.Scheduling/CreateTimeBlock",
       "alliance.scheduling.v1.CreateTimeBlockRequest", "alliance.scheduling.v1.TimeBlockResponse", true, 201},
      {"GET", "/v1/therapists/{therapist_id}/time-blocks", "scheduling", "alliance.scheduling.v1.Scheduling/ListTimeBlocks",
       "alliance.scheduling.v1.ListTimeBlocksRequest", "alliance.scheduling.v1.ListTimeBlocksResponse", true, 200},
      {"DELETE", "/v1/therapists/{therapist_id}/time-blocks/{block_id}", "scheduling", "alliance.scheduling.v1.Scheduling/DeleteTimeBlock",
       "alliance.scheduling.v1.DeleteTimeBlockRequest", "alliance.scheduling.v1.TimeBlockResponse", true, 200},
      {"GET", "/v1/calendar", "scheduling", "alliance.scheduling.v1.Scheduling/GetCalendar",
       "alliance.scheduling.v1.GetCalendarRequest", "alliance.scheduling.v1.GetCalendarResponse", true, 200},
      {"PUT", "/v1/appointments/{appointment_id}/note", "scheduling", "alliance.scheduling.v1.Scheduling/SetAppointmentNote",
       "alliance.scheduling.v1.SetAppointmentNoteRequest", "alliance.scheduling.v1.AppointmentNoteResponse", true, 200},
      {"GET", "/v1/appointments/{appointment_id}/note", "scheduling", "alliance.scheduling.v1.Scheduling/GetAppointmentNote",
       "alliance.scheduling.v1.GetAppointmentNoteRequest", "alliance.scheduling.v1.AppointmentNoteResponse", true, 200},
      {"GET", "/v1/therapists/{therapist_id}/slots", "scheduling", "alliance.scheduling.v1.Scheduling/ListSlots",
       "alliance.scheduling.v1.ListSlotsRequest", "alliance.scheduling.v1.ListSlotsResponse", true, 200},
      {"POST", "/v1/appointments", "scheduling", "alliance.scheduling.v1.Scheduling/BookAppointment",
       "alliance.scheduling.v1.BookAppointmentRequest", "alliance.scheduling.v1.AppointmentResponse", true, 201},
      {"GET", "/v1/appointments", "scheduling", "alliance.scheduling.v1.Scheduling/ListAppointments",
       "alliance.scheduling.v1.ListAppointmentsRequest", "alliance.scheduling.v1.ListAppointmentsResponse", true, 200},
      {"GET", "/v1/appointments/{appointment_id}", "scheduling", "alliance.scheduling.v1.Scheduling/GetAppointment",
       "alliance.scheduling.v1.GetAppointmentRequest", "alliance.scheduling.v1.AppointmentResponse", true, 200},
      {"POST", "/v1/appointments/{appointment_id}/confirm", "scheduling", "alliance.scheduling.v1.Scheduling/ConfirmAppointment",
       "alliance.scheduling.v1.ConfirmAppointmentRequest", "alliance.scheduling.v1.AppointmentResponse", true, 200},
      {"POST", "/v1/appointments/{appointment_id}/cancel", "scheduling", "alliance.scheduling.v1.Scheduling/CancelAppointment",
       "alliance.scheduling.v1.CancelAppointmentRequest", "alliance.scheduling.v1.AppointmentResponse", true, 200},
      {"POST", "/v1/appointments/{appointment_id}/complete", "scheduling", "alliance.scheduling.v1.Scheduling/CompleteAppointment",
       "alliance.scheduling.v1.CompleteAppointmentRequest", "alliance.scheduling.v1.AppointmentResponse", true, 200},
      {"POST", "/v1/appointments/{appointment_id}/no-show", "scheduling", "alliance.scheduling.v1.Scheduling/MarkNoShow",
       "alliance.scheduling.v1.MarkNoShowRequest", "alliance.scheduling.v1.AppointmentResponse", true, 200},
      {"POST", "/v1/appointments/{appointment_id}/reschedule", "scheduling", "alliance.scheduling.v1.Scheduling/RescheduleAppointment",
       "alliance.scheduling.v1.RescheduleAppointmentRequest", "alliance.scheduling.v1.AppointmentResponse", true, 200},
      {"POST", "/v1/appointment-series", "scheduling", "alliance.scheduling.v1.Scheduling/BookSeries",
       "alliance.scheduling.v1.BookSeriesRequest", "alliance.scheduling.v1.BookSeriesResponse", true, 201},
      {"POST", "/v1/appointment-series/{series_id}/cancel", "scheduling", "alliance.scheduling.v1.Scheduling/CancelSeries",
       "alliance.scheduling.v1.CancelSeriesRequest", "alliance.scheduling.v1.CancelSeriesResponse", true, 200},
      {"POST", "/v1/appointment-series/{series_id}/reschedule", "scheduling", "alliance.scheduling.v1.Scheduling/RescheduleSeries",
       "alliance.scheduling.v1.RescheduleSeriesRequest", "alliance.scheduling.v1.RescheduleSeriesResponse", true, 200},
      {"POST", "/v1/waitlist", "scheduling", "alliance.scheduling.v1.Scheduling/JoinWaitlist",
       "alliance.scheduling.v1.JoinWaitlistRequest", "alliance.scheduling.v1.WaitlistEntryResponse", true, 201},
      {"GET", "/v1/waitlist", "scheduling", "alliance.scheduling.v1.Scheduling/ListWaitlist",
       "alliance.scheduling.v1.ListWaitlistRequest", "alliance.scheduling.v1.ListWaitlistResponse", true, 200},
      {"GET", "/v1/waitlist/offers", "scheduling", "alliance.scheduling.v1.Scheduling/ListWaitlistOffers",
       "alliance.scheduling.v1.ListWaitlistOffersRequest", "alliance.scheduling.v1.ListWaitlistOffersResponse", true, 200},
      {"DELETE", "/v1/waitlist/{entry_id}", "scheduling", "alliance.scheduling.v1.Scheduling/LeaveWaitlist",
       "alliance.scheduling.v1.LeaveWaitlistRequest", "alliance.scheduling.v1.WaitlistEntryResponse", true, 200},
      {"POST", "/v1/waitlist/{entry_id}/leave", "scheduling", "alliance.scheduling.v1.Scheduling/LeaveWaitlist",
       "alliance.scheduling.v1.LeaveWaitlistRequest", "alliance.scheduling.v1.WaitlistEntryResponse", true, 200},
      {"POST", "/v1/waitlist/offers/{offer_id}/accept", "scheduling", "alliance.scheduling.v1.Scheduling/AcceptWaitlistOffer",
       "alliance.scheduling.v1.AcceptWaitlistOfferRequest", "alliance.scheduling.v1.WaitlistOfferResponse", true, 201},
      {"POST", "/v1/waitlist/offers/{offer_id}/decline", "scheduling", "alliance.scheduling.v1.Scheduling/DeclineWaitlistOffer",
       "alliance.scheduling.v1.DeclineWaitlistOfferRequest", "alliance.scheduling.v1.WaitlistOfferResponse", true, 200},
      {"POST", "/v1/calendar-feed/rotate", "scheduling", "alliance.scheduling.v1.Scheduling/RotateCalendarFeed",
       "alliance.scheduling.v1.RotateCalendarFeedRequest", "alliance.scheduling.v1.RotateCalendarFeedResponse", true, 200},
      {"GET", "/v1/calendars/{feed_token}.ics", "scheduling", "alliance.scheduling.v1.Scheduling/GetCalendarFeed",
       "alliance.scheduling.v1.GetCalendarFeedRequest", "alliance.scheduling.v1.CalendarFeedResponse", false, 200, true},
      // messaging
      {"POST", "/v1/conversations", "messaging", "alliance.messaging.v1.Messaging/OpenConversation",
       "alliance.messaging.v1.OpenConversationRequest", "alliance.messaging.v1.ConversationResponse", true, 200},
      {"GET", "/v1/conversations", "messaging", "alliance.messaging.v1.Messaging/ListConversations",
       "alliance.messaging.v1.ListConversationsRequest", "alliance.messaging.v1.ListConversationsResponse", true, 200},
      {"GET", "/v1/conversations/{conversation_id}", "messaging", "alliance.messaging.v1.Messaging/GetConversation",
       "alliance.messaging.v1.GetConversationRequest", "alliance.messaging.v1.ConversationResponse", true, 200},
      {"GET", "/v1/conversations/{conversation_id}/devices", "messaging", "alliance.messaging.v1.Messaging/ListRecipients",
       "alliance.messaging.v1.ListRecipientsRequest", "alliance.messaging.v1.ListRecipientsResponse", true, 200},
      {"POST", "/v1/conversations/{conversation_id}/messages", "messaging", "alliance.messaging.v1.Messaging/SendMessage",
       "alliance.messaging.v1.SendMessageRequest", "alliance.messaging.v1.SendMessageResponse", true, 201},
      {"GET", "/v1/conversations/{conversation_id}/messages", "messaging", "alliance.messaging.v1.Messaging/SyncMessages",
       "alliance.messaging.v1.SyncMessagesRequest", "alliance.messaging.v1.SyncMessagesResponse", true, 200},
      {"POST", "/v1/conversations/{conversation_id}/delivered", "messaging", "alliance.messaging.v1.Messaging/AckDelivered",
       "alliance.messaging.v1.AckDeliveredRequest", "alliance.messaging.v1.ReceiptResponse", true, 200},
      {"POST", "/v1/conversations/{conversation_id}/read", "messaging", "alliance.messaging.v1.Messaging/MarkRead",
       "alliance.messaging.v1.MarkReadRequest", "alliance.messaging.v1.ReceiptResponse", true, 200},
      {"GET", "/v1/conversations/{conversation_id}/receipts", "messaging", "alliance.messaging.v1.Messaging/ListReceipts",
       "alliance.messaging.v1.ListReceiptsRequest", "alliance.messaging.v1.ListReceiptsResponse", true, 200},
      {"POST", "/v1/conversations/{conversation_id}/typing", "messaging", "alliance.messaging.v1.Messaging/SetTyping",
       "alliance.messaging.v1.TypingRequest", "alliance.messaging.v1.TypingResponse", true, 200},
      {"POST", "/v1/conversations/{conversation_id}/erase", "messaging", "alliance.messaging.v1.Messaging/EraseConversation",
       "alliance.messaging.v1.EraseConversationRequest", "alliance.messaging.v1.EraseConversationResponse", true, 200},
      {"PUT", "/v1/therapists/{therapist_id}/messaging-hours", "messaging", "alliance.messaging.v1.Messaging/SetMessagingHours",
       "alliance.messaging.v1.SetMessagingHoursRequest", "alliance.messaging.v1.MessagingHoursResponse", true, 200},
      {"GET", "/v1/therapists/{therapist_id}/messaging-hours", "messaging", "alliance.messaging.v1.Messaging/GetMessagingHours",
       "alliance.messaging.v1.GetMessagingHoursRequest", "alliance.messaging.v1.MessagingHoursResponse", true, 200},
      {"PUT", "/v1/messaging/policy", "messaging", "alliance.messaging.v1.Messaging/SetMessagingPolicy",
       "alliance.messaging.v1.SetMessagingPolicyRequest", "alliance.messaging.v1.MessagingPolicyResponse", true, 200},
      {"GET", "/v1/messaging/policy", "messaging", "alliance.messaging.v1.Messaging/GetMessagingPolicy",
       "alliance.messaging.v1.GetMessagingPolicyRequest", "alliance.messaging.v1.MessagingPolicyResponse", true, 200},
      {"GET", "/v1/messaging/erasures", "messaging", "alliance.messaging.v1.Messaging/ListErasures",
       "alliance.messaging.v1.ListErasuresRequest", "alliance.messaging.v1.ListErasuresResponse", true, 200},
      // reminders
      {"GET", "/v1/reminders", "reminders", "alliance.reminders.v1.Reminders/ListPendingReminders",
       "alliance.reminders.v1.ListPendingRemindersRequest", "alliance.reminders.v1.ListPendingRemindersResponse", true, 200},
      {"POST", "/v1/reminders/{reminder_id}/ack", "reminders", "alliance.reminders.v1.Reminders/AckReminder",
       "alliance.reminders.v1.AckReminderRequest", "alliance.reminders.v1.AckReminderResponse", true, 200},
      {"GET", "/v1/appointments/{appointment_id}/reminders", "reminders", "alliance.reminders.v1.Reminders/ListAppointmentReminders",
       "alliance.reminders.v1.ListAppointmentRemindersRequest", "alliance.reminders.v1.ListAppointmentRemindersResponse", true, 200},
      {"GET", "/v1/reminders/policy", "reminders", "alliance.reminders.v1.Reminders/GetReminderPolicy",
       "alliance.reminders.v1.GetReminderPolicyRequest", "alliance.reminders.v1.ReminderPolicyResponse", true, 200},
      {"PUT", "/v1/reminders/policy", "reminders", "alliance.reminders.v1.Reminders/SetReminderPolicy",
       "alliance.reminders.v1.SetReminderPolicyRequest", "alliance.reminders.v1.ReminderPolicyResponse", true, 200},
      {"GET", "/v1/reminders/preference", "reminders", "alliance.reminders.v1.Reminders/GetReminderPreference",
       "alliance.reminders.v1.GetReminderPreferenceRequest", "alliance.reminders.v1.ReminderPreferenceResponse", true, 200},
      {"PUT", "/v1/reminders/preference", "reminders", "alliance.reminders.v1.Reminders/SetReminderPreference",
       "alliance.reminders.v1.SetReminderPreferenceRequest", "alliance.reminders.v1.ReminderPreferenceResponse", true, 200},
  };
  return routes;
}

bool match_path(std::string_view pattern, std::string_view path,
                std::vector<std::pair<std::string, std::string>>& params) {
  params.clear();
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern[0] != '/' || path[0] != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    auto pe = pattern.find('/');
    auto se = path.find('/');
    auto pseg = pattern.substr(0, pe);
    auto seg = path.substr(0, se);
    if (!pseg.empty() && pseg[0] == '{') {
      auto close = pseg.find('}');
      auto suffix = pseg.substr(close + 1);
      if (seg.size() <= suffix.size() || seg.substr(seg.size() - suffix.size()) != suffix) return false;
      params.emplace_back(std::string(pseg.substr(1, close - 1)),
                          std::string(seg.substr(0, seg.size() - suffix.size())));
    } else if (pseg != seg) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
    path = se == std::string_view::npos ? std::string_view() : path.substr(se);
  }
  return true;
}

RouteLookup find_route(std::string_view method, std::string_view path) {
  RouteLookup out;
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& r : public_routes()) {
    if (!match_path(r.path, path, params)) continue;
    if (r.http_method == method) {
      out.match = RouteMatch::kFound;
      out.route = &r;
      out.path_params = std::move(params);
      return out;
    }
    out.match = RouteMatch::kWrongMethod;
    if (!out.allowed_methods.empty()) out.allowed_methods += ", ";
    out.allowed_methods += r.http_method;
  }
  return out;
}

}  // namespace alliance::gateway
