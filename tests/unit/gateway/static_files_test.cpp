#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "process.hpp"
#include "src/static_files.hpp"

namespace alliance::gateway {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, std::string_view text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string header(const HttpReply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

// A console folder beside a database it must never serve, with a symbolic link to
// that database inside it and a file of a type the console does not use.
struct ConsoleFolder : ::testing::Test {
  testing::TempDir tmp;
  fs::path dir = tmp.path() / "console";
  void SetUp() override {
    write(dir / "index.html", "<!doctype html><title>Front desk</title>");
    write(dir / "app.js", "export const ok = 1;\n");
    write(dir / "css" / "console.css", "body{}");
    write(tmp.path() / "identity.db", "SQLite format 3");
    fs::create_symlink(tmp.path() / "identity.db", dir / "data.js");
    fs::create_symlink(tmp.path(), dir / "up");
    write(dir / "notes.db", "secret");
  }
  StaticFiles load() {
    auto files = StaticFiles::load(dir);
    EXPECT_TRUE(files) << (files ? "" : files.error().message);
    return files ? std::move(*files) : StaticFiles{};
  }
};

TEST_F(ConsoleFolder, ServesEachFileWithItsTypeAndTheHeadersThatKeepItSafe) {
  auto files = load();
  EXPECT_EQ(files.files(), 3u);
  auto index = files.serve("GET", "/console/", "");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>Front desk</title>");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(header(index, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(index, "Cache-Control"), "no-cache");
  auto csp = header(index, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(files.serve("GET", "/console/index.html", "").body, index.body);
  EXPECT_EQ(files.serve("GET", "/console/app.js", "").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(files.serve("GET", "/console/css/console.css", "").content_type, "text/css; charset=utf-8");
}

TEST_F(ConsoleFolder, NeverServesWhatIsOutsideItThroughDotsEncodingsOrLinks) {
  auto files = load();
  for (std::string_view path :
       {"/console/../identity.db", "/console/%2e%2e/identity.db", "/console/%2E%2E%2Fidentity.db",
        "/console/..%2fidentity.db", "/console/.%2e/identity.db", "/console//../identity.db",
        "/console/up/identity.db", "/console/data.js", "/console/notes.db", "/console/./app.js",
        "/console/css/../app.js", "/console/app.js%00", "/console/app.js/", "/console/APP.JS",
        "/console/..\\identity.db"}) {
    auto r = files.serve("GET", path, "");
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.find("SQLite"), std::string::npos) << path;
  }
}

TEST_F(ConsoleFolder, AnswersARevalidationWithNotModifiedAndOnlyGet) {
  auto files = load();
  auto first = files.serve("GET", "/console/app.js", "");
  auto etag = header(first, "ETag");
  ASSERT_EQ(etag.size(), 34u) << etag;
  auto again = files.serve("GET", "/console/app.js", etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_NE(header(files.serve("GET", "/console/index.html", ""), "ETag"), etag);
  auto post = files.serve("POST", "/console/app.js", "");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(header(post, "Allow"), "GET");
  auto bare = files.serve("GET", "/console", "");
  EXPECT_EQ(bare.status, 301);
  EXPECT_EQ(header(bare, "Location"), "/console/");
}

TEST_F(ConsoleFolder, OwnsOnlyItsMount) {
  EXPECT_TRUE(StaticFiles::owns("/console"));
  EXPECT_TRUE(StaticFiles::owns("/console/x.js"));
  EXPECT_FALSE(StaticFiles::owns("/consoles"));
  EXPECT_FALSE(StaticFiles::owns("/v1/console"));
}

TEST_F(ConsoleFolder, RefusesAFileTooLargeToHoldInMemoryNamingTheKey) {
  write(dir / "huge.js", std::string(StaticFiles::kMaxTotalBytes + 1, 'x'));
  auto files = StaticFiles::load(dir);
  ASSERT_FALSE(files);
  EXPECT_EQ(files.error().field, "console_dir");
  EXPECT_NE(files.error().message.find("huge.js is larger than"), std::string::npos) << files.error().message;
}

TEST_F(ConsoleFolder, RefusesAFolderWithoutAnIndexNamingTheKey) {
  fs::remove(dir / "index.html");
  auto files = StaticFiles::load(dir);
  ASSERT_FALSE(files);
  EXPECT_EQ(files.error().field, "console_dir");
  EXPECT_FALSE(StaticFiles::load(tmp.path() / "missing"));
}

}  // namespace
}  // namespace alliance::gateway
