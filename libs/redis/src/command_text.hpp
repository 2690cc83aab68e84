#pragma once
// Internal: a command as Redis reads it (RESP: "*<argc>\r\n", then "$<len>\r\n<arg>\r\n"
// per argument), appended to a connection's output buffer. The same bytes as hiredis's
// redisFormatCommandArgv, without its two allocations and a sprintf per length.
#include <string>
#include <vector>

namespace alliance::redis::detail {

void append_command(std::string& out, const std::vector<std::string>& args);

}  // namespace alliance::redis::detail
