#pragma once
// Per-conversation cursors of what one device has stored: the highest seq up to
// which it holds every message. Decides whether a pushed message is the next one,
// a duplicate, or comes after a gap that a sync must fill first. Pure, no I/O; not
// thread-safe (owned by one Messenger).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace alliance::client {

class SequenceTracker {
 public:
  enum class Verdict {
    kNext,       // seq == last + 1: store it and advance
    kDuplicate,  // seq <= last: already stored, ignore
    kGap,        // seq > last + 1: messages are missing, sync from last first
  };

  // 0 for a conversation never seen: every message from seq 1 is wanted.
  std::int64_t last(std::string_view conversation_id) const;
  Verdict classify(std::string_view conversation_id, std::int64_t seq) const;
  // Records that every message up to `seq` is stored. Only ever moves forward
  // (a smaller seq is ignored); returns true if the cursor moved.
  bool advance(std::string_view conversation_id, std::int64_t seq);
  // Sets the cursor, e.g. to a position restored from the device's storage.
  void reset(std::string_view conversation_id, std::int64_t seq);

 private:
  std::map<std::string, std::int64_t, std::less<>> last_;
};

}  // namespace alliance::client
