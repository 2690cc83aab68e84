// Commands are encoded by the project, not hiredis: the bytes must be exactly what
// hiredis's redisFormatCommandArgv makes of the same arguments (what Redis has always
// been sent), for empty, binary, CRLF-holding and long arguments, and appended after
// whatever the buffer already holds.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "src/command_text.hpp"

namespace alliance::redis::detail {
namespace {

std::string hiredis_bytes(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* encoded = nullptr;
  const int n = redisFormatCommandArgv(&encoded, static_cast<int>(args.size()), argv.data(), lens.data());
  EXPECT_GT(n, 0);
  std::string out(encoded, static_cast<std::size_t>(n));
  redisFreeCommand(encoded);
  return out;
}

TEST(CommandText, TheSameBytesAsHiredisForEveryKindOfArgument) {
  const std::vector<std::vector<std::string>> commands = {
      {"PING"},
      {"SET", "k", ""},
      {"PUBLISH", "user:7f3a", std::string("\0\r\n$3\r\n\xff", 8)},
      {"XADD", "s", "*", "f", std::string(70000, 'x')},
      {"HSET", "h", "a", "1", "b", "22", "c", "333", "d", "4444", "e", "55555"},
  };
  for (const auto& args : commands) {
    std::string ours;
    append_command(ours, args);
    EXPECT_EQ(ours, hiredis_bytes(args)) << args.front();
  }
}

TEST(CommandText, AppendsAfterWhatIsQueued) {
  std::string out = "*1\r\n$4\r\nPING\r\n";
  append_command(out, {"GET", "key"});
  EXPECT_EQ(out, "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
}

}  // namespace
}  // namespace alliance::redis::detail
