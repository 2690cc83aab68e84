#include "flat_reply.hpp"

#include <charconv>

namespace alliance::redis::detail {

namespace {

using Status = FlatParse::Status;

constexpr std::size_t kMaxLine = 64 * 1024;

struct Cursor {
  std::string_view in;
  std::size_t pos = 0;
  const char* why = "";
};

// The line at the cursor without its CRLF; kIncomplete until the CRLF has arrived.
Status line(Cursor& c, std::string_view& out) {
  auto rest = c.in.substr(c.pos);
  auto cr = rest.find('\r');
  if (cr == std::string_view::npos) {
    if (rest.size() > kMaxLine) return c.why = "line longer than 64 KiB", Status::kInvalid;
    return Status::kIncomplete;
  }
  if (cr > kMaxLine) return c.why = "line longer than 64 KiB", Status::kInvalid;
  if (cr + 1 == rest.size()) return Status::kIncomplete;
  if (rest[cr + 1] != '\n') return c.why = "CR without LF", Status::kInvalid;
  out = rest.substr(0, cr);
  c.pos += cr + 2;
  return Status::kComplete;
}

bool to_integer(std::string_view s, long long& v) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size();
}

// One non-array value at the cursor.
Status scalar(Cursor& c, FlatValue& v) {
  if (c.pos >= c.in.size()) return Status::kIncomplete;
  const char kind = c.in[c.pos];
  if (kind == '*') return c.why = "nested array", Status::kInvalid;
  std::size_t start = c.pos++;
  std::string_view text;
  if (auto s = line(c, text); s != Status::kComplete) {
    c.pos = start;
    return s;
  }
  switch (kind) {
    case '+':
      v = {Reply::Type::kStatus, text, 0};
      return Status::kComplete;
    case '-':
      v = {Reply::Type::kError, text, 0};
      return Status::kComplete;
    case ':':
      v = {Reply::Type::kInteger, {}, 0};
      if (!to_integer(text, v.integer)) return c.why = "malformed integer reply", Status::kInvalid;
      return Status::kComplete;
    case '$': {
      long long len = 0;
      if (!to_integer(text, len) || len < -1 || len > kMaxBulkBytes)
        return c.why = "malformed bulk string length", Status::kInvalid;
      if (len == -1) {
        v = {Reply::Type::kNil, {}, 0};
        return Status::kComplete;
      }
      const auto n = static_cast<std::size_t>(len);
      if (c.in.size() - c.pos < n + 2) {
        c.pos = start;
        return Status::kIncomplete;
      }
      if (c.in[c.pos + n] != '\r' || c.in[c.pos + n + 1] != '\n')
        return c.why = "bulk string not followed by CRLF", Status::kInvalid;
      v = {Reply::Type::kString, c.in.substr(c.pos, n), 0};
      c.pos += n + 2;
      return Status::kComplete;
    }
    default:
      return c.why = "unknown reply type", Status::kInvalid;
  }
}

}  // namespace

FlatParse parse_flat_reply(std::string_view in, FlatReply& out) {
  Cursor c{in};
  out.count = 0;
  auto result = [&](Status s) { return FlatParse{s, s == Status::kComplete ? c.pos : 0, c.why}; };
  if (in.empty()) return result(Status::kIncomplete);
  if (in[0] != '*') return result(scalar(c, out.value));
  ++c.pos;
  std::string_view text;
  if (auto s = line(c, text); s != Status::kComplete) return result(s);
  long long n = 0;
  if (!to_integer(text, n) || n < -1) return c.why = "malformed array length", result(Status::kInvalid);
  if (n == -1) {
    out.value = {Reply::Type::kNil, {}, 0};
    return result(Status::kComplete);
  }
  if (static_cast<unsigned long long>(n) > FlatReply::kMaxElements)
    return c.why = "array longer than a pub/sub reply", result(Status::kInvalid);
  out.value = {Reply::Type::kArray, {}, 0};
  for (long long i = 0; i < n; ++i) {
    if (auto s = scalar(c, out.elements[static_cast<std::size_t>(i)]); s != Status::kComplete) return result(s);
  }
  out.count = static_cast<std::size_t>(n);
  return result(Status::kComplete);
}

Reply to_reply(const FlatReply& flat) {
  auto one = [](const FlatValue& v) {
    Reply r;
    r.type = v.type;
    r.str.assign(v.str);
    r.integer = v.integer;
    return r;
  };
  if (flat.value.type != Reply::Type::kArray) return one(flat.value);
  Reply r;
  r.type = Reply::Type::kArray;
  r.elements.reserve(flat.count);
  for (std::size_t i = 0; i < flat.count; ++i) r.elements.push_back(one(flat.elements[i]));
  return r;
}

}  // namespace alliance::redis::detail
