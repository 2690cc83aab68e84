#include "dev_certs.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace alliance::testing {
namespace {

// Owns the folder for the life of the process.
struct CertsFolder {
  DevCerts certs;

  CertsFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "alliance-certs-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data()))
      throw std::system_error(errno, std::generic_category(), "dev_certs: mkdtemp");
    certs.dir = buf.data();
    run_script();
  }

  ~CertsFolder() {
    if (std::getenv("ALLIANCE_KEEP_TEST_DIRS")) return;
    std::error_code ignored;
    std::filesystem::remove_all(certs.dir, ignored);
  }

  void run_script() {
    const std::string script = ALLIANCE_SOURCE_DIR "/scripts/dev-certs";
    const std::string dir = certs.dir.string();
    pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "dev_certs: fork");
    if (pid == 0) {
      // The script's own messages go to our stderr; only openssl diagnostics, never key material.
      const char* argv[] = {"bash", script.c_str(), dir.c_str(), "--rogue", nullptr};
      ::execvp("bash", const_cast<char* const*>(argv));
      ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "dev_certs: waitpid");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("dev_certs: " + script + " " + dir + " --rogue failed (status " +
                               std::to_string(status) + ")");
    if (!std::filesystem::exists(certs.rogue_cert()) || !std::filesystem::exists(certs.ca()))
      throw std::runtime_error("dev_certs: " + script + " did not create the expected files in " + dir);
  }
};

}  // namespace

const DevCerts& dev_certs() {
  static CertsFolder folder;
  return folder.certs;
}

}  // namespace alliance::testing
