#pragma once
// Session check-ins, the pure part: the four questions and their wording, checking a
// client's answer (ratings and the sealed comment's shape), and whether a submitted
// total raises an alert under the practice's policy. No I/O; any thread.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/core/result.hpp"

namespace alliance::reminders {

struct CheckinQuestionText {
  std::string_view key;   // "relationship" | "goals" | "approach" | "overall"
  std::string_view text;  // ready to show; 0 = not at all, 10 = completely
};
// In the order a client answers them.
const std::array<CheckinQuestionText, 4>& checkin_questions();

struct CheckinRatings {
  int relationship = 0, goals = 0, approach = 0, overall = 0;
  int total() const { return relationship + goals + approach + overall; }
  bool operator==(const CheckinRatings&) const = default;
};
inline constexpr int kMaxCheckinTotal = 40;

// Each present and 0..10; kInvalidArgument naming "ratings.<key>".
Result<CheckinRatings> parse_ratings(std::optional<int> relationship, std::optional<int> goals,
                                     std::optional<int> approach, std::optional<int> overall);

struct CommentKey {
  std::string device_id, wrapped_key;
  bool operator==(const CommentKey&) const = default;
};
// A comment sealed on the client's device for the therapist's devices: opaque here.
struct SealedComment {
  std::string sender_device_id, ciphertext;
  std::vector<CommentKey> keys;
  bool empty() const { return ciphertext.empty(); }
  bool operator==(const SealedComment&) const = default;
};
inline constexpr std::size_t kMaxCommentCiphertext = 8192;
inline constexpr std::size_t kMaxCommentKeys = 20;

// Empty (no comment) or well formed: sender_device_id 1..64, ciphertext between the
// sealed format's minimum and kMaxCommentCiphertext, 1..kMaxCommentKeys keys of
// distinct device ids (1..64) each holding an 80-byte wrapped key. kInvalidArgument
// naming "comment.<field>" (keys[i] for a key).
Status check_comment(const SealedComment& comment);

struct CheckinPolicy {
  int alert_below_total = 0;  // 0 = off
  int alert_drop_points = 0;  // 0 = off
  bool admin_summary = false;
};
// Both 0..kMaxCheckinTotal; kInvalidArgument naming the field.
Status check_policy(const CheckinPolicy& policy);

// Why a total raises an alert: "below_threshold" (total < alert_below_total) and/or
// "drop" (more than alert_drop_points below `previous_average`, the client's average
// over `previous_count` earlier check-ins with the same therapist). Empty: no alert.
std::vector<std::string> alert_reasons(const CheckinPolicy& policy, int total, double previous_average,
                                       int previous_count);

}  // namespace alliance::reminders
