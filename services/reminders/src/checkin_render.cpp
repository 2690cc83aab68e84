#include "checkin_render.hpp"

#include "alliance/redis/push.hpp"
#include "reminder_render.hpp"

namespace alliance::reminders {

v1::CheckinDue render_checkin_due(const CheckinRow& row) {
  v1::CheckinDue out;
  out.set_checkin_id(row.id);
  out.set_appointment_id(row.appointment_id);
  out.set_therapist_id(row.therapist_id);
  out.set_session_time(format_utc(row.session_start_ms));
  out.set_expires_at(format_utc(row.expires_ms));
  for (const auto& q : checkin_questions()) {
    auto* question = out.add_questions();
    question->set_key(std::string(q.key));
    question->set_text(std::string(q.text));
  }
  out.set_text("How was your session? Four quick ratings from 0 to 10, and a comment only your therapist can read.");
  return out;
}

push::v1::PushFrame checkin_due_frame(const CheckinRow& row, std::int64_t now_ms) {
  return redis::push_frame(row.id, kCheckinDue, now_ms, render_checkin_due(row));
}

push::v1::PushFrame checkin_alert_frame(const AlertRow& alert, std::int64_t now_ms) {
  v1::CheckinAlert body;
  body.set_id(alert.id);
  body.set_checkin_id(alert.checkin_id);
  body.set_client_id(alert.client_id);
  body.set_appointment_id(alert.appointment_id);
  for (const auto& r : alert.reasons) body.add_reasons(r);
  body.set_created_at(format_utc(alert.created_ms));
  return redis::push_frame(alert.id, kCheckinAlert, now_ms, body);
}

v1::Checkin to_proto(const CheckinRow& row) {
  v1::Checkin out;
  out.set_id(row.id);
  out.set_appointment_id(row.appointment_id);
  out.set_client_id(row.client_id);
  out.set_therapist_id(row.therapist_id);
  out.set_session_time(format_utc(row.session_start_ms));
  out.set_state(row.state);
  out.set_created_at(format_utc(row.created_ms));
  out.set_expires_at(format_utc(row.expires_ms));
  if (row.state == "submitted") {
    auto* r = out.mutable_ratings();
    r->set_relationship(row.ratings.relationship);
    r->set_goals(row.ratings.goals);
    r->set_approach(row.ratings.approach);
    r->set_overall(row.ratings.overall);
    out.set_total(row.ratings.total());
    out.set_submitted_at(format_utc(row.submitted_ms));
  }
  if (!row.comment.empty()) {
    auto* c = out.mutable_comment();
    c->set_sender_device_id(row.comment.sender_device_id);
    c->set_ciphertext(row.comment.ciphertext);
    for (const auto& k : row.comment.keys) {
      auto* key = c->add_keys();
      key->set_device_id(k.device_id);
      key->set_wrapped_key(k.wrapped_key);
    }
  }
  return out;
}

v1::CheckinAlert to_proto(const AlertRow& alert) {
  v1::CheckinAlert out;
  out.set_id(alert.id);
  out.set_checkin_id(alert.checkin_id);
  out.set_client_id(alert.client_id);
  out.set_appointment_id(alert.appointment_id);
  for (const auto& r : alert.reasons) out.add_reasons(r);
  out.set_total(alert.total);
  out.set_previous_average_x100(alert.previous_average_x100);
  out.set_created_at(format_utc(alert.created_ms));
  return out;
}

v1::CheckinPolicy to_proto(const PolicyOfCheckins& p) {
  v1::CheckinPolicy out;
  out.set_practice_id(p.practice_id);
  out.set_alert_below_total(p.policy.alert_below_total);
  out.set_alert_drop_points(p.policy.alert_drop_points);
  out.set_admin_summary(p.policy.admin_summary);
  out.set_updated_by(p.updated_by);
  out.set_updated_unix_ms(p.updated_ms);
  return out;
}

SealedComment comment_of(const v1::SealedComment& c) {
  SealedComment out;
  out.sender_device_id = c.sender_device_id();
  out.ciphertext = c.ciphertext();
  for (const auto& k : c.keys()) out.keys.push_back(CommentKey{k.device_id(), k.wrapped_key()});
  return out;
}

}  // namespace alliance::reminders
