// What every service main() shares (alliance/core/runtime.hpp).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "alliance/core/asio.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/core/runtime.hpp"

namespace alliance {
namespace {

// A launcher that sees the ready file may stop the service at once, before its main()
// has started waiting for the signal: the stop must be kept, not end the process with
// the signal's default action (exit 143, nothing drained or sealed).
TEST(Runtime, AStopSignalRightAfterTheReadyFileIsKeptForTheWait) {
  const auto path = std::filesystem::temp_directory_path() / ("alliance-ready-" + new_id() + ".json");
  const StopSignals stops;
  write_ready_file(stops, path, {{"rpc_port", 4242}});
  std::string text;
  std::getline(std::ifstream(path), text);
  std::filesystem::remove(path);
  EXPECT_EQ(text, R"({"rpc_port":4242})");

  ASSERT_EQ(std::raise(SIGTERM), 0);  // without the kept stop, this test process ends here
  asio::io_context io;
  bool stopped = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await stops.wait();
        stopped = true;
      },
      asio::detached);
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(stopped) << "the stop that came before the wait was lost";
}

}  // namespace
}  // namespace alliance
