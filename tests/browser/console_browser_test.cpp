// A front desk opens the console a gateway serves and works a day in a real browser:
// signs in, books (in a room of the practice's location), sees the booking appear in a
// second browser session within a second, reschedules, cancels, books again with the
// keyboard only, and sees a time block made elsewhere appear and go without a reload,
// all on the practice's clock while the browser runs in another zone. Before that,
// the console's files are checked over real HTTPS: their headers, and that nothing
// outside the console folder can be reached through it.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "alliance/client/client.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct Practice {
  std::string slug = "harbour";
  std::string desk_email = "desk@harbour.example";
};

// The UTC date `from_now` from now: "2026-12-04".
std::string utc_day(std::chrono::days from_now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + from_now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char day[16];
  std::strftime(day, sizeof day, "%F", &utc);
  return day;
}

// Two therapists with open hours every day, one type, two clients, and a session Lee
// missed: what a front desk needs to book and mark.
void seed(System& sys, const Practice& p) {
  sys.create_practice(p.slug);
  auto admin = sys.login(p.slug, "admin@" + p.slug + ".example");
  auto user = [&](const std::string& email, const std::string& name, const std::string& role) {
    json::value body = {{"email", email}, {"password", System::kPassword}, {"display_name", name}, {"role", role}};
    auto r = admin->post_json("/v1/users", body);
    if (!r) throw std::runtime_error("create user: " + r.error().message);
    return std::string(r->at("user").at("id").as_string());
  };
  user(p.desk_email, "Front Desk", "front_desk");
  // The practice's own zone, which the console shows its day in (the browser is elsewhere).
  if (auto r = admin->put_json("/v1/practice/policy", json::value{{"time_zone", "UTC"}}); !r)
    throw std::runtime_error("set the practice's zone: " + r.error().message);
  std::vector<std::string> therapists = {user("rivera@harbour.example", "Dr Ana Rivera", "therapist"),
                                         user("okafor@harbour.example", "Dr Sam Okafor", "therapist")};
  user("kai@harbour.example", "Kai Moreno", "client");
  const std::string lee = user("lee@harbour.example", "Lee Park", "client");
  // One location with two rooms, where the type's sessions are held by default.
  json::value location = {{"name", "Harbour House"}, {"address", "1 Quay Street"}, {"rooms", json::array{"Room 1", "Room 2"}}};
  auto made = admin->post_json("/v1/locations", location);
  if (!made) throw std::runtime_error("create location: " + made.error().message);
  json::value type = {{"name", "Individual therapy"}, {"duration_minutes", 50}, {"modality", "in_person"},
                      {"step_minutes", 60}, {"min_notice_minutes", 0}, {"booking_horizon_days", 30},
                      {"default_location_id", made->at("location").at("id")}};
  auto made_type = admin->post_json("/v1/appointment-types", type);
  if (!made_type) throw std::runtime_error("create type: " + made_type.error().message);
  // Dr Rivera works 08:00-18:00 every day, Dr Okafor mornings only (UTC).
  for (std::size_t i = 0; i < therapists.size(); ++i) {
    json::array weekly;
    for (int day = 0; day < 7; ++day)
      weekly.push_back(json::object{{"weekday", day}, {"start", "08:00"}, {"end", i == 0 ? "18:00" : "12:00"}});
    json::value hours = {{"time_zone", "UTC"}, {"weekly", weekly}};
    if (auto r = admin->put_json("/v1/therapists/" + therapists[i] + "/availability", hours); !r)
      throw std::runtime_error("set availability: " + r.error().message);
  }
  // Dr Okafor has supervision tomorrow afternoon (the day the browser test works on).
  const std::string day = utc_day(std::chrono::days(1));
  json::value block = {{"start_time", day + "T13:00:00Z"},
                       {"end_time", day + "T15:00:00Z"},
                       {"reason", "Supervision"}};
  if (auto r = admin->post_json("/v1/therapists/" + therapists[1] + "/time-blocks", block); !r)
    throw std::runtime_error("create time block: " + r.error().message);
  // Lee Park's session with Dr Okafor at 09:00 eight days ago (outside the week the browser
  // test works in), which Lee did not come to: booked 29 days ahead (a day no step
  // searches) and moved 37 days back, since a no-show can only be marked once the
  // appointment has started.
  json::value past = {{"idempotency_key", "past-session"},
                      {"therapist_id", therapists[1]},
                      {"client_id", lee},
                      {"type_id", made_type->at("type").at("id")},
                      {"start_time", utc_day(std::chrono::days(29)) + "T09:00:00Z"}};
  auto booked = admin->post_json("/v1/appointments", past);
  if (!booked) throw std::runtime_error("book the past session: " + booked.error().message);
  sys.move_appointment_back(std::string(booked->at("appointment").at("id").as_string()), std::chrono::days(37));
}

TEST(ConsoleInBrowser, FrontDeskBooksReschedulesCancelsAndSeesChangesLive) {
  System sys;
  // The console as the build made it, with a link to a database beside it planted in
  // its folder: the gateway must serve neither the link nor anything outside.
  const fs::path console = sys.dir() / "console";
  fs::copy(binary("console"), console, fs::copy_options::recursive);
  { std::ofstream(sys.dir() / "identity-copy.db") << "SQLite format 3"; }
  fs::create_symlink(sys.dir() / "identity-copy.db", console / "leak.js");
  auto port = sys.start_gateway(GatewayFlags{{{"console_dir", console.string()}}});

  client::HttpsClient http(client::Endpoint{"127.0.0.1", port, dev_certs().ca()});
  auto index = http.request("GET", "/console/");
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index->header("x-content-type-options"), "nosniff");
  EXPECT_EQ(index->header("cache-control"), "no-cache");
  EXPECT_NE(index->header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(index->body.find("<script type=\"module\" src=\"app.js\"></script>"), std::string::npos);
  auto script = http.request("GET", "/console/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->header("content-type"), "text/javascript; charset=utf-8");
  auto again = http.request("GET", "/console/app.js", {}, {}, std::chrono::seconds(10),
                            {{"If-None-Match", script->header("etag")}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  for (const char* target : {"/console/../identity-copy.db", "/console/%2e%2e/identity-copy.db",
                             "/console/%2E%2E%2Fidentity-copy.db", "/console/..%2fidentity-copy.db",
                             "/console/leak.js", "/console/../../etc/passwd", "/console/%2e%2e%2f%2e%2e%2fetc%2fpasswd"}) {
    auto r = http.request("GET", target);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 404) << target;
    EXPECT_EQ(r->body.find("SQLite"), std::string::npos) << target;
  }
  // The API beside it answers as before.
  auto api = http.request("GET", "/v1/me");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 401);

  Practice practice;
  seed(sys, practice);
  const fs::path node_modules = fs::path(ALLIANCE_SOURCE_DIR) / "node_modules" / "playwright-core";
  ASSERT_TRUE(fs::exists(node_modules)) << "playwright-core is not installed: run `npm ci` at the repository root "
                                           "(scripts/install-deps does)";
  const fs::path screenshot = fs::path(ALLIANCE_BINARY_DIR) / "console-day-view.png";
  fs::remove(screenshot);
  auto run = run_command(find_executable("node"),
                         {std::string(ALLIANCE_SOURCE_DIR) + "/tests/browser/console.test.mjs"},
                         std::chrono::seconds(240),
                         {{"CONSOLE_URL", "https://127.0.0.1:" + std::to_string(port) + "/console/"},
                          {"CONSOLE_PRACTICE", practice.slug},
                          {"CONSOLE_DESK_EMAIL", practice.desk_email},
                          {"CONSOLE_ADMIN_EMAIL", "admin@" + practice.slug + ".example"},
                          {"CONSOLE_THERAPIST_EMAIL", "rivera@harbour.example"},
                          {"CONSOLE_PASSWORD", System::kPassword},
                          {"CONSOLE_SCREENSHOT", screenshot.string()}});
  if (run.exit_code == 77) {
    GTEST_SKIP() << run.out;
  }
  EXPECT_EQ(run.exit_code, 0) << run.out << "\ngateway log:\n" << sys.gateway_process(1).log();
  std::cout << run.out;
  if (run.exit_code == 0) {
    EXPECT_GT(fs::file_size(screenshot), 10'000u) << screenshot;
  }
}

}  // namespace
}  // namespace alliance::testing
