// Identity's validation rules: every bad value is refused with the field named.
#include <gtest/gtest.h>

#include "identity_domain.hpp"
#include "login_throttle.hpp"

namespace alliance::identity {
namespace {

template <class R>
void expect_invalid(const R& r, std::string_view field) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_EQ(r.error().field, field);
  EXPECT_EQ(r.error().message.rfind(std::string(field) + ": ", 0), 0u) << r.error().message;
}

TEST(IdentityDomain, EmailIsLowerCasedAndNeedsExactlyOneAt) {
  auto ok = normalize_email("Ada.Lovelace@Example.ORG");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "ada.lovelace@example.org");
  expect_invalid(normalize_email(""), "email");
  expect_invalid(normalize_email("no-at-sign"), "email");
  expect_invalid(normalize_email("two@@example.org"), "email");
  expect_invalid(normalize_email("a@b@c"), "email");
  expect_invalid(normalize_email("@x"), "email");
  expect_invalid(normalize_email("x@"), "email");
  expect_invalid(normalize_email("sp ace@example.org"), "email");
  expect_invalid(normalize_email(std::string(250, 'a') + "@b.org"), "email");
  EXPECT_TRUE(normalize_email(std::string(248, 'a') + "@b.org").ok());  // 254 chars
  expect_invalid(normalize_email("bad", "admin_email"), "admin_email");
}

TEST(IdentityDomain, PasswordLengthIsBounded) {
  expect_invalid(validate_password(""), "password");
  expect_invalid(validate_password("elevenchars"), "password");
  EXPECT_TRUE(validate_password("twelve chars").ok());
  EXPECT_TRUE(validate_password(std::string(1024, 'x')).ok());
  expect_invalid(validate_password(std::string(1025, 'x')), "password");
  expect_invalid(validate_password("short", "admin_password"), "admin_password");
}

TEST(IdentityDomain, DisplayNameRefusesControlCharacters) {
  EXPECT_TRUE(validate_display_name("Dr. Zoë Hart").ok());
  expect_invalid(validate_display_name(""), "display_name");
  expect_invalid(validate_display_name("line\nbreak"), "display_name");
  expect_invalid(validate_display_name(std::string("nul\0x", 5)), "display_name");
  expect_invalid(validate_display_name(std::string(201, 'n')), "display_name");
  EXPECT_TRUE(validate_display_name(std::string(200, 'n')).ok());
}

TEST(IdentityDomain, DisplayNameRefusesBidiOverridesC1ControlsAndBadUtf8AndCountsCharacters) {
  // Right-to-left override (U+202E): "Dr. Ann" followed by reversed text.
  expect_invalid(validate_display_name("Dr. Ann\u202Eeoj"), "display_name");
  EXPECT_NE(validate_display_name("Ann\u202E").error().message.find("bidirectional"), std::string::npos);
  for (const char* bidi : {"\u202A", "\u202B", "\u202C", "\u202D", "\u202E", "\u2066", "\u2067",
                           "\u2068", "\u2069"})
    expect_invalid(validate_display_name(std::string("Ann ") + bidi + "Lee"), "display_name");
  // Neighbours of the refused ranges are ordinary text.
  EXPECT_TRUE(validate_display_name("Ann\u2065Lee").ok());
  EXPECT_TRUE(validate_display_name("\u05D3\u05E0\u05D4 \u05DB\u05D4\u05DF").ok());  // Hebrew reads right to left on its own
  // C1 controls (U+0080..U+009F), DEL and tab.
  expect_invalid(validate_display_name("Ann\u0085Lee"), "display_name");
  expect_invalid(validate_display_name("Ann\u009BLee"), "display_name");
  expect_invalid(validate_display_name("Ann\x7fLee"), "display_name");
  expect_invalid(validate_display_name("Ann\tLee"), "display_name");
  // Not UTF-8: a lone continuation byte, a cut sequence, an overlong '/', a surrogate.
  for (std::string bad : {std::string("Ann\x80"), std::string("Ann\xc3"), std::string("\xc0\xaf"),
                          std::string("\xed\xa0\x80")})
    expect_invalid(validate_display_name(bad), "display_name");
  expect_invalid(validate_display_name("   "), "display_name");
  // 200 characters of two bytes each are fine; 201 are not.
  std::string zoe200;
  for (int i = 0; i < 200; ++i) zoe200 += "\u00eb";
  EXPECT_TRUE(validate_display_name(zoe200).ok());
  expect_invalid(validate_display_name(zoe200 + "\u00eb"), "display_name");
  expect_invalid(validate_device_name("phone\u202E"), "name");
}

TEST(IdentityDomain, RoleIsOneOfFour) {
  for (auto name : {"client", "therapist", "front_desk", "admin"}) {
    auto r = parse_role_field(name);
    ASSERT_TRUE(r.ok()) << name;
    EXPECT_EQ(role_name(*r), name);
  }
  expect_invalid(parse_role_field("Admin"), "role");
  expect_invalid(parse_role_field("superuser"), "role");
  expect_invalid(parse_role_field(""), "role");
}

TEST(IdentityDomain, SlugFollowsThePattern) {
  EXPECT_TRUE(validate_slug("northside-therapy").ok());
  EXPECT_TRUE(validate_slug("a1").ok());
  EXPECT_TRUE(validate_slug(std::string(63, 'a')).ok());
  expect_invalid(validate_slug(std::string(64, 'a')), "slug");
  expect_invalid(validate_slug("a"), "slug");
  expect_invalid(validate_slug("-leading"), "slug");
  expect_invalid(validate_slug("Upper"), "slug");
  expect_invalid(validate_slug("under_score"), "slug");
  expect_invalid(validate_slug(""), "slug");
}

TEST(IdentityDomain, PracticeNameIsBounded) {
  EXPECT_TRUE(validate_practice_name("Northside Therapy").ok());
  expect_invalid(validate_practice_name(""), "name");
  expect_invalid(validate_practice_name(std::string(201, 'p')), "name");
}

TEST(IdentityDomain, AccountKeyIgnoresEmailCaseAndSeparatesPractices) {
  auto a = login_account_key("acme", "Ada@Example.org");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, login_account_key("acme", "ada@example.org"));
  EXPECT_NE(a, login_account_key("other", "ada@example.org"));
}

TEST(IdentityDomain, TimeZoneMustBeKnownToTheDatabaseOrEmpty) {
  for (auto name : {"America/New_York", "Europe/Berlin", "UTC", "Etc/GMT+5", "America/Argentina/Buenos_Aires", ""})
    EXPECT_TRUE(validate_time_zone(name).ok()) << name;
  auto mars = validate_time_zone("Mars/Base");
  expect_invalid(mars, "time_zone");
  EXPECT_EQ(mars.error().message, "time_zone: unknown time zone \"Mars/Base\"");
  // Names are case-sensitive, and nothing but a short name reaches the database.
  expect_invalid(validate_time_zone("america/new_york"), "time_zone");
  expect_invalid(validate_time_zone("../../../etc/passwd"), "time_zone");
  expect_invalid(validate_time_zone("/usr/share/zoneinfo/UTC"), "time_zone");
  expect_invalid(validate_time_zone("America/New York"), "time_zone");
  expect_invalid(validate_time_zone(std::string(65, 'A')), "time_zone");
  auto odd = validate_time_zone("Bad\n\"Zone\"");
  expect_invalid(odd, "time_zone");
  EXPECT_EQ(odd.error().message, "time_zone: unknown time zone \"Bad??Zone?\"");  // one printable line
}

TEST(IdentityDomain, WhoMaySetWhoseTimeZone) {
  const User client{"c1", "p1", "c@x", "C", Role::kClient, 0, ""};
  const User therapist{"t1", "p1", "t@x", "T", Role::kTherapist, 0, ""};
  const User elsewhere{"c2", "p2", "c2@x", "C2", Role::kClient, 0, ""};
  // Everyone sets their own.
  EXPECT_TRUE(may_set_time_zone("c1", "p1", Role::kClient, client));
  EXPECT_TRUE(may_set_time_zone("t1", "p1", Role::kTherapist, therapist));
  // Front desk: clients of the practice only.
  EXPECT_TRUE(may_set_time_zone("f1", "p1", Role::kFrontDesk, client));
  EXPECT_FALSE(may_set_time_zone("f1", "p1", Role::kFrontDesk, therapist));
  EXPECT_FALSE(may_set_time_zone("f1", "p1", Role::kFrontDesk, elsewhere));
  // Admin: anyone in the practice.
  EXPECT_TRUE(may_set_time_zone("a1", "p1", Role::kAdmin, client));
  EXPECT_TRUE(may_set_time_zone("a1", "p1", Role::kAdmin, therapist));
  EXPECT_FALSE(may_set_time_zone("a1", "p1", Role::kAdmin, elsewhere));
  // Nobody else.
  EXPECT_FALSE(may_set_time_zone("t1", "p1", Role::kTherapist, client));
  EXPECT_FALSE(may_set_time_zone("c3", "p1", Role::kClient, client));
}

TEST(LoginThrottleRule, LockDoublesFromOneSecondUpToTheMaximum) {
  using std::chrono::milliseconds;
  const milliseconds max(15 * 60 * 1000);
  EXPECT_EQ(LoginThrottle::lock_duration(4, 5, max), milliseconds(0));
  EXPECT_EQ(LoginThrottle::lock_duration(5, 5, max), milliseconds(1000));
  EXPECT_EQ(LoginThrottle::lock_duration(6, 5, max), milliseconds(2000));
  EXPECT_EQ(LoginThrottle::lock_duration(9, 5, max), milliseconds(16000));
  EXPECT_EQ(LoginThrottle::lock_duration(20, 5, max), max);
  EXPECT_EQ(LoginThrottle::lock_duration(500, 5, max), max);
}

}  // namespace
}  // namespace alliance::identity
