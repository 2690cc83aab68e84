#include "alliance/client/sequence_tracker.hpp"

namespace alliance::client {

std::int64_t SequenceTracker::last(std::string_view conversation_id) const {
  auto it = last_.find(conversation_id);
  return it == last_.end() ? 0 : it->second;
}

SequenceTracker::Verdict SequenceTracker::classify(std::string_view conversation_id, std::int64_t seq) const {
  std::int64_t last_seq = last(conversation_id);
  if (seq <= last_seq) return Verdict::kDuplicate;
  if (seq == last_seq + 1) return Verdict::kNext;
  return Verdict::kGap;
}

bool SequenceTracker::advance(std::string_view conversation_id, std::int64_t seq) {
  auto it = last_.find(conversation_id);
  if (it == last_.end()) {
    if (seq <= 0) return false;
    last_.emplace(std::string(conversation_id), seq);
    return true;
  }
  if (seq <= it->second) return false;
  it->second = seq;
  return true;
}

void SequenceTracker::reset(std::string_view conversation_id, std::int64_t seq) {
  auto it = last_.find(conversation_id);
  if (it == last_.end()) {
    last_.emplace(std::string(conversation_id), seq);
  } else {
    it->second = seq;
  }
}

}  // namespace alliance::client
