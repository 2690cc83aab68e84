// alliancectl: the practice administrator's command line for Alliance. It talks
// to the system only through the gateway's public HTTPS API.
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto inv = alliance::ctl::parse_args(args, alliance::ctl::process_env);
  if (!inv) {
    std::cerr << alliance::ctl::error_line(inv.error()) << "\n\n" << alliance::ctl::usage();
    return 2;
  }
  try {
    return alliance::ctl::run(*inv, std::cout, std::cerr);
  } catch (const std::exception& e) {
    // Only a bug gets here; say so plainly rather than abort with a core dump.
    std::cerr << "error: internal error: " << e.what() << "\n";
    return 1;
  }
}
