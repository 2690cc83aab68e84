#pragma once
// Structured logs: one JSON object per line on stderr,
//   {"ts":"2026-11-25T23:09:18.123Z","level":"info","service":"gateway","msg":"listening","port":8443}
// Never pass a password, token, key or message body as a field.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace alliance::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  template <class I, class = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  Field(std::string_view k, I v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}

  std::string_view key;
  std::variant<std::string, std::int64_t, double, bool> value;
};

// Called once by main(): the service name stamped on every line, the minimum level.
void init(std::string_view service, Level min_level = Level::kInfo);
Level parse_level(std::string_view name);  // "debug" | "info" | "warn" | "error"; throws
bool enabled(Level level);
void write(Level level, std::string_view msg, std::initializer_list<Field> fields);

inline void debug(std::string_view msg, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kDebug)) write(Level::kDebug, msg, f);
}
inline void info(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::kInfo, msg, f); }
inline void warn(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::kWarn, msg, f); }
inline void error(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::kError, msg, f); }

// JSON string escaping, shared with anything else that writes JSON by hand.
void append_json_string(std::string& out, std::string_view s);

}  // namespace alliance::log
