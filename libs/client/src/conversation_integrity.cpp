#include "alliance/client/conversation_integrity.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <iterator>
#include <optional>
#include <set>

#include "alliance/client/wire.hpp"

namespace alliance::client {
namespace json = boost::json;

namespace {

constexpr int kJsonVersion = 1;

constexpr std::array<std::pair<IntegrityKind, std::string_view>, 7> kKindNames{{
    {IntegrityKind::kReplay, "replay"},
    {IntegrityKind::kIdConflict, "id_conflict"},
    {IntegrityKind::kGap, "gap"},
    {IntegrityKind::kReordered, "reordered"},
    {IntegrityKind::kFromRevokedDevice, "from_revoked_device"},
    {IntegrityKind::kUntrustedRecipient, "untrusted_recipient"},
    {IntegrityKind::kMissingRecipient, "missing_recipient"},
}};

std::string_view start_name(ReaderStart start) {
  return start == ReaderStart::kFromFirstMessage ? "from_first_message" : "joined_later";
}

// b - a > limit, for any two int64 (signed times come from other devices: no overflow).
bool later_by_more_than(std::int64_t a, std::int64_t b, std::int64_t limit) {
  return b > a && static_cast<std::uint64_t>(b) - static_cast<std::uint64_t>(a) > static_cast<std::uint64_t>(limit);
}

std::string join(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

// Checks what open_message_v2 guarantees, for a caller that built the input by hand.
Status validate(std::int64_t seq, std::string_view message_id, std::string_view device_id,
                const crypto::MessageHeaderV2& header, std::string_view message_hash) {
  auto bad = [](std::string field, std::string_view what) {
    return invalid_argument(field, field + ": " + std::string(what));
  };
  if (seq < 1) return bad("seq", "must be at least 1");
  if (message_id.empty() || message_id.size() > kIntegrityMaxIdSize) return bad("message_id", "must be 1 to 256 bytes");
  if (device_id.empty() || device_id.size() > kIntegrityMaxIdSize)
    return bad("sender_device_id", "must be 1 to 256 bytes");
  if (header.counter == 0) return bad("header.counter", "must be at least 1");
  if (!header.prev_hash.empty() && header.prev_hash.size() != crypto::kMessageHashSize)
    return bad("header.prev_hash", "must be empty or 32 bytes");
  if (message_hash.size() != crypto::kMessageHashSize) return bad("message_hash", "must be 32 bytes");
  return {};
}

IntegrityIssue issue_on(IntegrityKind kind, const DeliveredMessage& m, std::string text) {
  IntegrityIssue out;
  out.kind = kind;
  out.message_id = m.message_id;
  out.seq = m.seq;
  out.sender_device_id = m.sender_device_id;
  out.text = std::move(text);
  return out;
}

IntegrityIssue missing_counters(const DeliveredMessage& m, std::uint64_t first, std::uint64_t last) {
  std::string text =
      first == last
          ? "a message from device " + m.sender_device_id + " is missing (counter " + std::to_string(first) + ")"
          : std::to_string(last - first + 1) + " messages from device " + m.sender_device_id +
                " are missing (counters " + std::to_string(first) + " to " + std::to_string(last) + ")";
  IntegrityIssue out = issue_on(IntegrityKind::kGap, m, std::move(text));
  out.first_missing = first;
  out.last_missing = last;
  return out;
}

// ---- JSON ------------------------------------------------------------------------------

// Reads the fields of one JSON object, keeping the first error, named with its path
// ("messages[3].message_hash"). Missing fields read as empty or 0, as in wire.hpp.
class FieldReader {
 public:
  FieldReader(const json::object& o, std::string path) : o_(o), path_(std::move(path)) {}

  std::optional<Error> error;

  std::string name(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  void fail(std::string_view key, std::string_view what) {
    if (!error) error = invalid_argument(name(key), name(key) + ": " + std::string(what));
  }
  template <class T>
  T take(Result<T> r, T fallback = T{}) {
    if (r) return std::move(*r);
    if (!error) {
      Error e = std::move(r).error();
      if (!path_.empty()) {
        e.field = path_ + "." + e.field;
        e.message = path_ + "." + e.message;
      }
      error = std::move(e);
    }
    return fallback;
  }

  std::string text(std::string_view key) { return take(json_field::string(o_, key)); }
  std::int64_t int64(std::string_view key) { return take(json_field::int64(o_, key)); }
  bool boolean(std::string_view key) { return take(json_field::boolean(o_, key)); }
  std::string id(std::string_view key) {
    std::string out = text(key);
    if (out.empty() || out.size() > kIntegrityMaxIdSize) fail(key, "must be 1 to 256 bytes");
    return out;
  }
  std::string hash(std::string_view key) {
    std::string out = take(json_field::bytes(o_, key));
    if (out.size() != crypto::kMessageHashSize) fail(key, "must be 32 bytes");
    return out;
  }
  std::int64_t seq(std::string_view key) {
    std::int64_t out = int64(key);
    if (out < 1) fail(key, "must be at least 1");
    return out;
  }
  std::uint64_t uint64(std::string_view key) {
    const json::value* v = json_field::find(o_, key);
    if (!v || v->is_null()) return 0;
    if (v->is_uint64()) return v->as_uint64();
    if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
    if (v->is_string()) {
      std::string_view s = v->as_string();
      std::uint64_t out = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return out;
    }
    fail(key, "expected a whole number from 0 to 2^64-1");
    return 0;
  }
  // The objects of an array field (missing: none), at most `max` of them.
  std::vector<const json::object*> objects(std::string_view key, std::size_t max) {
    std::vector<const json::object*> out;
    const json::value* v = json_field::find(o_, key);
    if (!v || v->is_null()) return out;
    if (!v->is_array()) {
      fail(key, "expected an array");
    } else if (v->as_array().size() > max) {
      fail(key, "more than " + std::to_string(max) + " entries");
    } else {
      for (std::size_t i = 0; i < v->as_array().size() && !error; ++i) {
        const json::value& e = v->as_array()[i];
        if (e.is_object()) {
          out.push_back(&e.as_object());
        } else {
          fail(std::string(key) + "[" + std::to_string(i) + "]", "expected a JSON object");
        }
      }
    }
    return out;
  }
  std::vector<std::string> strings(std::string_view key) {
    std::vector<std::string> out;
    const json::value* v = json_field::find(o_, key);
    if (!v || v->is_null()) return out;
    if (!v->is_array()) {
      fail(key, "expected an array");
      return out;
    }
    for (const auto& e : v->as_array()) {
      if (!e.is_string()) {
        fail(key, "expected strings");
        return out;
      }
      out.emplace_back(e.as_string());
    }
    return out;
  }

 private:
  const json::object& o_;
  std::string path_;
};

std::string indexed(std::string_view key, std::size_t i) { return std::string(key) + "[" + std::to_string(i) + "]"; }

}  // namespace

std::string_view integrity_kind_name(IntegrityKind kind) {
  for (const auto& [k, name] : kKindNames)
    if (k == kind) return name;
  return "unknown";
}

ConversationIntegrity::ConversationIntegrity(std::string conversation_id, ReaderStart start)
    : conversation_id_(std::move(conversation_id)), start_(start) {}

// ---- Reading ---------------------------------------------------------------------------

Result<IntegrityVerdict> ConversationIntegrity::observe(const DeliveredMessage& m) {
  if (auto valid = validate(m.seq, m.message_id, m.sender_device_id, m.header, m.message_hash); !valid)
    return std::move(valid).error();
  IntegrityVerdict verdict;

  // The same message again (by id, or by hash, which the signature binds to the id).
  const Seen* known = nullptr;
  if (auto it = by_id_.find(m.message_id); it != by_id_.end()) known = &it->second;
  if (!known) known = find_hash(m.message_hash);
  if (known) {
    std::string first_at = " (first at seq " + std::to_string(known->seq) + ")";
    if (known->message_id == m.message_id && known->message_hash == m.message_hash) {
      verdict.display = IntegrityVerdict::Display::kDuplicate;
      if (known->seq != m.seq)
        verdict.issues.push_back(issue_on(IntegrityKind::kReplay, m,
                                          "message " + m.message_id + " from device " + m.sender_device_id +
                                              " was delivered again at seq " + std::to_string(m.seq) + first_at));
    } else {
      verdict.display = IntegrityVerdict::Display::kRefused;
      verdict.issues.push_back(issue_on(
          IntegrityKind::kIdConflict, m,
          "message " + m.message_id + " from device " + m.sender_device_id + " came at seq " + std::to_string(m.seq) +
              " with the id or hash of message " + known->message_id + first_at + " but other content"));
    }
    add_issues(verdict.issues);
    return verdict;
  }

  auto sender_it = senders_.find(m.sender_device_id);
  const Sender* sender = sender_it == senders_.end() ? nullptr : &sender_it->second;
  std::string revoked = revocation_problem(m, sender);
  if (!revoked.empty()) {
    verdict.display = IntegrityVerdict::Display::kRefused;
    verdict.issues.push_back(issue_on(IntegrityKind::kFromRevokedDevice, m, std::move(revoked)));
  }
  check_counter(m, sender, verdict.issues);
  check_chain(m, sender, verdict.issues);
  // A refused message's recipients are moot (and would only repeat the revocation).
  if (verdict.show()) check_recipients(m, verdict.issues);

  if (!m.header.prev_hash.empty() && !find_hash(m.header.prev_hash) && !pending_.contains(m.header.prev_hash)) {
    pending_.emplace(m.header.prev_hash, Reference{m.message_id, m.seq});
    pending_order_.push_back(m.header.prev_hash);
    while (pending_order_.size() > kIntegrityMaxMessages) {
      pending_.erase(pending_order_.front());
      pending_order_.pop_front();
    }
  }
  if (!verdict.show()) {
    auto& s = senders_[m.sender_device_id];
    if (s.refused_from == 0 || m.header.counter < s.refused_from) s.refused_from = m.header.counter;
  }
  remember(Seen{m.message_id, m.message_hash, m.sender_device_id, m.seq, m.header.counter, m.header.sent_unix_ms,
                verdict.show()});
  add_issues(verdict.issues);
  return verdict;
}

std::string ConversationIntegrity::revocation_problem(const DeliveredMessage& m, const Sender* sender) const {
  std::string who = "message " + m.message_id + " from device " + m.sender_device_id;
  // Revocation is for good: a counter above a refused one was sealed after it, whatever
  // the server now says of the device.
  if (sender && sender->refused_from != 0 && m.header.counter > sender->refused_from)
    return who + " was sealed after its counter " + std::to_string(sender->refused_from) +
           ", which was signed after the device was revoked";
  if (m.sender_revoked_unix_ms == 0) return {};
  if (m.header.sent_unix_ms > m.sender_revoked_unix_ms) return who + " was signed after the device was revoked";
  if (const Seen* prev = m.header.prev_hash.empty() ? nullptr : find_hash(m.header.prev_hash);
      prev && later_by_more_than(m.sender_revoked_unix_ms, prev->sent_unix_ms, kIntegrityClockToleranceMs))
    return who + " claims a time before the device was revoked but follows message " + prev->message_id +
           ", signed after it";
  return {};
}

void ConversationIntegrity::check_counter(const DeliveredMessage& m, const Sender* sender,
                                          std::vector<IntegrityIssue>& out) const {
  const std::uint64_t c = m.header.counter;
  if (!sender) {
    if (start_ == ReaderStart::kFromFirstMessage && c > 1) out.push_back(missing_counters(m, 1, c - 1));
    return;
  }
  const std::uint64_t last = sender->last_counter;
  std::string who = "message " + m.message_id + " from device " + m.sender_device_id;
  if (c > last) {
    if (c - last > 1) out.push_back(missing_counters(m, last + 1, c - 1));
    if (later_by_more_than(m.header.sent_unix_ms, sender->last_sent_unix_ms, kIntegrityClockToleranceMs)) {
      auto minutes =
          (static_cast<std::uint64_t>(sender->last_sent_unix_ms) - static_cast<std::uint64_t>(m.header.sent_unix_ms)) /
          60'000;
      out.push_back(
          issue_on(IntegrityKind::kReordered, m,
                   who + " is signed " + std::to_string(minutes) + " minutes before the device's previous message"));
    }
    return;
  }
  if (auto it = id_by_counter_.find({m.sender_device_id, c}); it != id_by_counter_.end()) {
    out.push_back(issue_on(IntegrityKind::kReplay, m,
                           who + " reuses counter " + std::to_string(c) + " of message " + it->second));
  } else if (c <= sender->forgotten_up_to) {
    out.push_back(issue_on(IntegrityKind::kReplay, m,
                           who + " has counter " + std::to_string(c) +
                               ", older than the messages this device still remembers: replayed or held back"));
  } else {
    out.push_back(
        issue_on(IntegrityKind::kReordered, m,
                 who + " (counter " + std::to_string(c) + ") arrived after its counter " + std::to_string(last)));
  }
}

void ConversationIntegrity::check_chain(const DeliveredMessage& m, const Sender* sender,
                                        std::vector<IntegrityIssue>& out) const {
  std::string who = "message " + m.message_id + " from device " + m.sender_device_id;
  if (auto it = pending_.find(m.message_hash); it != pending_.end())
    out.push_back(issue_on(IntegrityKind::kReordered, m,
                           who + " (seq " + std::to_string(m.seq) + ") arrived after message " + it->second.message_id +
                               " (seq " + std::to_string(it->second.seq) + "), which follows it"));
  if (m.header.prev_hash.empty()) return;
  if (const Seen* prev = find_hash(m.header.prev_hash)) {
    if (prev->seq > m.seq)
      out.push_back(issue_on(IntegrityKind::kReordered, m,
                             who + " (seq " + std::to_string(m.seq) + ") follows message " + prev->message_id +
                                 ", which the server delivered later (seq " + std::to_string(prev->seq) + ")"));
    return;
  }
  // A reader added later cannot open what came before it: a device's first message
  // may follow one of those.
  if (start_ == ReaderStart::kJoinedLater && !sender) return;
  out.push_back(issue_on(IntegrityKind::kGap, m, who + " refers to a message this device never received"));
}

void ConversationIntegrity::check_recipients(const DeliveredMessage& m, std::vector<IntegrityIssue>& out) const {
  std::set<std::string> trusted(m.trusted_device_ids.begin(), m.trusted_device_ids.end());
  std::set<std::string> expected(m.expected_device_ids.begin(), m.expected_device_ids.end());
  std::set<std::string> sealed_for(m.header.recipient_device_ids.begin(), m.header.recipient_device_ids.end());
  std::vector<std::string> extra, missing;
  if (!trusted.empty())
    std::set_difference(sealed_for.begin(), sealed_for.end(), trusted.begin(), trusted.end(), std::back_inserter(extra));
  std::set_difference(expected.begin(), expected.end(), sealed_for.begin(), sealed_for.end(),
                      std::back_inserter(missing));
  std::string who = "message " + m.message_id + " from device " + m.sender_device_id;
  if (!extra.empty()) {
    IntegrityIssue i = issue_on(IntegrityKind::kUntrustedRecipient, m,
                                who + " was also encrypted to devices this device does not trust: " + join(extra));
    i.device_ids = std::move(extra);
    out.push_back(std::move(i));
  }
  if (!missing.empty()) {
    IntegrityIssue i = issue_on(IntegrityKind::kMissingRecipient, m,
                                who + " was not encrypted to devices this device trusts: " + join(missing));
    i.device_ids = std::move(missing);
    out.push_back(std::move(i));
  }
}

// ---- Sending ---------------------------------------------------------------------------

std::uint64_t ConversationIntegrity::next_counter(std::string_view my_device_id) const {
  auto it = senders_.find(my_device_id);
  return it == senders_.end() ? 1 : it->second.last_counter + 1;
}

Status ConversationIntegrity::record_own(std::int64_t seq, std::string_view message_id, std::string_view my_device_id,
                                         const crypto::MessageHeaderV2& header, std::string_view message_hash) {
  if (auto valid = validate(seq, message_id, my_device_id, header, message_hash); !valid) return valid;
  if (auto it = by_id_.find(message_id); it != by_id_.end()) {
    if (it->second.message_hash == message_hash) return {};
    return invalid_argument("message_id", "message_id: already recorded with another hash");
  }
  if (find_hash(message_hash)) return invalid_argument("message_hash", "message_hash: already recorded for another id");
  remember(Seen{std::string(message_id), std::string(message_hash), std::string(my_device_id), seq, header.counter,
                header.sent_unix_ms, true});
  return {};
}

// ---- State -----------------------------------------------------------------------------

const ConversationIntegrity::Seen* ConversationIntegrity::find_hash(std::string_view hash) const {
  auto it = id_by_hash_.find(hash);
  return it == id_by_hash_.end() ? nullptr : &by_id_.find(it->second)->second;
}

void ConversationIntegrity::remember(Seen seen) {
  Sender& s = senders_[seen.sender_device_id];
  if (seen.counter > s.last_counter) {
    s.last_counter = seen.counter;
    s.last_sent_unix_ms = seen.sent_unix_ms;
  }
  s.last_seq = std::max(s.last_seq, seen.seq);
  if (seen.shown && seen.seq >= last_hash_seq_) {
    last_hash_ = seen.message_hash;
    last_hash_seq_ = seen.seq;
  }
  if (pending_.erase(seen.message_hash) > 0)
    pending_order_.erase(std::find(pending_order_.begin(), pending_order_.end(), seen.message_hash));
  id_by_hash_.emplace(seen.message_hash, seen.message_id);
  id_by_counter_.emplace(std::pair{seen.sender_device_id, seen.counter}, seen.message_id);
  order_.push_back(seen.message_id);
  std::string device = seen.sender_device_id;
  by_id_.emplace(seen.message_id, std::move(seen));

  while (order_.size() > kIntegrityMaxMessages) forget_oldest_message();
  while (senders_.size() > kIntegrityMaxSenders) {
    auto oldest = senders_.end();
    for (auto it = senders_.begin(); it != senders_.end(); ++it)
      if (it->first != device && (oldest == senders_.end() || it->second.last_seq < oldest->second.last_seq))
        oldest = it;
    senders_.erase(oldest);
  }
}

void ConversationIntegrity::forget_oldest_message() {
  auto it = by_id_.find(order_.front());
  order_.pop_front();
  const Seen& seen = it->second;
  id_by_hash_.erase(seen.message_hash);
  if (auto c = id_by_counter_.find({seen.sender_device_id, seen.counter});
      c != id_by_counter_.end() && c->second == seen.message_id)
    id_by_counter_.erase(c);
  if (auto s = senders_.find(seen.sender_device_id); s != senders_.end())
    s->second.forgotten_up_to = std::max(s->second.forgotten_up_to, seen.counter);
  by_id_.erase(it);
}

void ConversationIntegrity::add_issues(const std::vector<IntegrityIssue>& found) {
  for (const auto& i : found) issues_.push_back(i);
  while (issues_.size() > kIntegrityMaxIssues) issues_.pop_front();
}

// ---- JSON ------------------------------------------------------------------------------

json::value ConversationIntegrity::to_json() const {
  json::object o;
  o["version"] = kJsonVersion;
  o["conversation_id"] = conversation_id_;
  o["reader_start"] = start_name(start_);
  json::array messages;
  for (const auto& id : order_) {
    const Seen& s = by_id_.find(id)->second;
    messages.push_back(json::object{{"message_id", s.message_id},
                                    {"message_hash", base64_encode(s.message_hash)},
                                    {"sender_device_id", s.sender_device_id},
                                    {"seq", std::to_string(s.seq)},
                                    {"counter", std::to_string(s.counter)},
                                    {"sent_unix_ms", std::to_string(s.sent_unix_ms)},
                                    {"shown", s.shown}});
  }
  o["messages"] = std::move(messages);
  json::array senders;
  for (const auto& [id, s] : senders_) {
    senders.push_back(json::object{{"device_id", id},
                                   {"last_counter", std::to_string(s.last_counter)},
                                   {"last_sent_unix_ms", std::to_string(s.last_sent_unix_ms)},
                                   {"last_seq", std::to_string(s.last_seq)},
                                   {"forgotten_up_to", std::to_string(s.forgotten_up_to)},
                                   {"refused_from", std::to_string(s.refused_from)}});
  }
  o["senders"] = std::move(senders);
  json::array pending;
  for (const auto& hash : pending_order_) {
    const Reference& r = pending_.find(hash)->second;
    pending.push_back(
        json::object{{"hash", base64_encode(hash)}, {"message_id", r.message_id}, {"seq", std::to_string(r.seq)}});
  }
  o["pending"] = std::move(pending);
  json::array issues;
  for (const auto& i : issues_) {
    json::array devices;
    for (const auto& d : i.device_ids) devices.emplace_back(d);
    issues.push_back(json::object{{"kind", integrity_kind_name(i.kind)},
                                  {"message_id", i.message_id},
                                  {"seq", std::to_string(i.seq)},
                                  {"sender_device_id", i.sender_device_id},
                                  {"first_missing", std::to_string(i.first_missing)},
                                  {"last_missing", std::to_string(i.last_missing)},
                                  {"device_ids", std::move(devices)},
                                  {"text", i.text}});
  }
  o["issues"] = std::move(issues);
  return o;
}

Result<ConversationIntegrity> ConversationIntegrity::from_json(const json::value& v) {
  if (!v.is_object())
    return invalid_argument("conversation_integrity", "conversation_integrity: expected a JSON object");
  FieldReader top(v.as_object(), "");
  if (top.int64("version") != kJsonVersion && !top.error) top.fail("version", "must be 1");
  std::string conversation_id = top.id("conversation_id");
  std::string start = top.text("reader_start");
  if (start != start_name(ReaderStart::kFromFirstMessage) && start != start_name(ReaderStart::kJoinedLater))
    top.fail("reader_start", "must be \"from_first_message\" or \"joined_later\"");
  if (top.error) return *top.error;
  ConversationIntegrity out(std::move(conversation_id), start == start_name(ReaderStart::kFromFirstMessage)
                                                            ? ReaderStart::kFromFirstMessage
                                                            : ReaderStart::kJoinedLater);

  auto messages = top.objects("messages", kIntegrityMaxMessages);
  for (std::size_t i = 0; i < messages.size() && !top.error; ++i) {
    FieldReader r(*messages[i], indexed("messages", i));
    Seen s{r.id("message_id"),  r.hash("message_hash"),  r.id("sender_device_id"), r.seq("seq"),
           r.uint64("counter"), r.int64("sent_unix_ms"), r.boolean("shown")};
    if (!r.error && s.counter == 0) r.fail("counter", "must be at least 1");
    if (!r.error && out.by_id_.contains(s.message_id)) r.fail("message_id", "listed twice");
    if (!r.error && out.id_by_hash_.contains(s.message_hash)) r.fail("message_hash", "listed twice");
    if (r.error) return *r.error;
    out.id_by_hash_.emplace(s.message_hash, s.message_id);
    out.id_by_counter_.emplace(std::pair{s.sender_device_id, s.counter}, s.message_id);
    out.order_.push_back(s.message_id);
    if (s.shown && s.seq >= out.last_hash_seq_) {
      out.last_hash_ = s.message_hash;
      out.last_hash_seq_ = s.seq;
    }
    out.by_id_.emplace(s.message_id, std::move(s));
  }

  auto senders = top.objects("senders", kIntegrityMaxSenders);
  for (std::size_t i = 0; i < senders.size() && !top.error; ++i) {
    FieldReader r(*senders[i], indexed("senders", i));
    std::string id = r.id("device_id");
    Sender s{r.uint64("last_counter"), r.int64("last_sent_unix_ms"), r.int64("last_seq"), r.uint64("forgotten_up_to"),
             r.uint64("refused_from")};
    if (!r.error && s.last_counter == 0) r.fail("last_counter", "must be at least 1");
    if (!r.error && out.senders_.contains(id)) r.fail("device_id", "listed twice");
    if (r.error) return *r.error;
    out.senders_.emplace(std::move(id), s);
  }

  auto pending = top.objects("pending", kIntegrityMaxMessages);
  for (std::size_t i = 0; i < pending.size() && !top.error; ++i) {
    FieldReader r(*pending[i], indexed("pending", i));
    std::string hash = r.hash("hash");
    Reference ref{r.id("message_id"), r.seq("seq")};
    if (!r.error && out.pending_.contains(hash)) r.fail("hash", "listed twice");
    if (r.error) return *r.error;
    out.pending_.emplace(hash, std::move(ref));
    out.pending_order_.push_back(std::move(hash));
  }

  auto issues = top.objects("issues", kIntegrityMaxIssues);
  for (std::size_t i = 0; i < issues.size() && !top.error; ++i) {
    FieldReader r(*issues[i], indexed("issues", i));
    IntegrityIssue issue;
    std::string kind = r.text("kind");
    auto named = std::find_if(kKindNames.begin(), kKindNames.end(), [&](const auto& k) { return k.second == kind; });
    if (named == kKindNames.end()) r.fail("kind", "unknown kind");
    issue.kind = named == kKindNames.end() ? IntegrityKind::kGap : named->first;
    issue.message_id = r.text("message_id");
    issue.seq = r.int64("seq");
    issue.sender_device_id = r.text("sender_device_id");
    issue.first_missing = r.uint64("first_missing");
    issue.last_missing = r.uint64("last_missing");
    issue.device_ids = r.strings("device_ids");
    issue.text = r.text("text");
    if (r.error) return *r.error;
    out.issues_.push_back(std::move(issue));
  }
  if (top.error) return *top.error;
  return out;
}

}  // namespace alliance::client
