#include "domain/checkin.hpp"

#include <set>

namespace alliance::reminders {
namespace {

constexpr std::size_t kMaxId = 64;
constexpr std::size_t kWrappedKeySize = 80;        // crypto::kWrappedKeySize
constexpr std::size_t kMinCiphertext = 12 + 64 + 16;  // crypto::kMinMessageCiphertextSize

Error invalid(const std::string& field, const std::string& what) {
  return Error{Code::kInvalidArgument, field + ": " + what, field};
}

}  // namespace

const std::array<CheckinQuestionText, 4>& checkin_questions() {
  static const std::array<CheckinQuestionText, 4> questions{{
      {"relationship", "Today I felt heard, understood and respected by my therapist."},
      {"goals", "Today we worked on and talked about what I wanted to work on and talk about."},
      {"approach", "My therapist's way of working fits me."},
      {"overall", "Overall, today's session was right for me."},
  }};
  return questions;
}

Result<CheckinRatings> parse_ratings(std::optional<int> relationship, std::optional<int> goals,
                                     std::optional<int> approach, std::optional<int> overall) {
  CheckinRatings out;
  const std::array<std::pair<std::optional<int>, int*>, 4> given{
      {{relationship, &out.relationship}, {goals, &out.goals}, {approach, &out.approach}, {overall, &out.overall}}};
  for (std::size_t i = 0; i < given.size(); ++i) {
    const std::string field = "ratings." + std::string(checkin_questions()[i].key);
    if (!given[i].first) return invalid(field, "required, 0 to 10");
    if (*given[i].first < 0 || *given[i].first > 10) return invalid(field, "must be between 0 and 10");
    *given[i].second = *given[i].first;
  }
  return out;
}

Status check_comment(const SealedComment& c) {
  if (c.empty() && c.sender_device_id.empty() && c.keys.empty()) return {};
  if (c.sender_device_id.empty() || c.sender_device_id.size() > kMaxId)
    return invalid("comment.sender_device_id", "required, at most 64 characters");
  if (c.ciphertext.size() < kMinCiphertext) return invalid("comment.ciphertext", "too short to be a sealed comment");
  if (c.ciphertext.size() > kMaxCommentCiphertext) return invalid("comment.ciphertext", "at most 8192 bytes");
  if (c.keys.empty()) return invalid("comment.keys", "required: the comment's key for each of the therapist's devices");
  if (c.keys.size() > kMaxCommentKeys) return invalid("comment.keys", "at most 20");
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < c.keys.size(); ++i) {
    const std::string field = "comment.keys[" + std::to_string(i) + "]";
    const auto& k = c.keys[i];
    if (k.device_id.empty() || k.device_id.size() > kMaxId)
      return invalid(field + ".device_id", "required, at most 64 characters");
    if (!seen.insert(k.device_id).second) return invalid(field + ".device_id", "listed twice");
    if (k.wrapped_key.size() != kWrappedKeySize) return invalid(field + ".wrapped_key", "must be 80 bytes");
  }
  return {};
}

Status check_policy(const CheckinPolicy& p) {
  if (p.alert_below_total < 0 || p.alert_below_total > kMaxCheckinTotal)
    return invalid("alert_below_total", "must be between 0 (off) and 40");
  if (p.alert_drop_points < 0 || p.alert_drop_points > kMaxCheckinTotal)
    return invalid("alert_drop_points", "must be between 0 (off) and 40");
  return {};
}

std::vector<std::string> alert_reasons(const CheckinPolicy& policy, int total, double previous_average,
                                       int previous_count) {
  std::vector<std::string> out;
  if (policy.alert_below_total > 0 && total < policy.alert_below_total) out.emplace_back("below_threshold");
  if (policy.alert_drop_points > 0 && previous_count > 0 && previous_average - total > policy.alert_drop_points)
    out.emplace_back("drop");
  return out;
}

}  // namespace alliance::reminders
