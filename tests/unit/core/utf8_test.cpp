#include "alliance/core/utf8.hpp"

#include <gtest/gtest.h>

namespace alliance {
namespace {

TEST(Utf8, WellFormedSequencesOfEveryLengthAreKept) {
  const std::string text = "a\xc3\xa9\xe2\x80\x94\xf0\x9f\x99\x82";  // a, é, em dash, 🙂
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_EQ(valid_utf8(text), text);
  EXPECT_EQ(utf8_sequence_length("\xf4\x8f\xbf\xbf"), 4u);  // U+10FFFF, the last code point
}

TEST(Utf8, OverlongSurrogateOutOfRangeAndTruncatedAreReplaced) {
  for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf",  // overlong "/"
                          "\xed\xa0\x80",                                  // a surrogate
                          "\xf4\x90\x80\x80", "\xff", "\x80",              // above U+10FFFF, never a lead
                          "\xe2\x80"}) {                                   // cut short
    EXPECT_FALSE(is_valid_utf8(bad)) << bad;
    EXPECT_TRUE(is_valid_utf8(valid_utf8(bad)));
  }
  EXPECT_EQ(valid_utf8("a\xff" "b"), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(valid_utf8("\xe2\x80"), "\xef\xbf\xbd\xef\xbf\xbd");  // each byte of a cut sequence
}

TEST(Utf8, LengthCountsCharactersNotBytes) {
  std::string sixty_e_acute;
  for (int i = 0; i < 60; ++i) sixty_e_acute += "\xc3\xa9";
  EXPECT_EQ(sixty_e_acute.size(), 120u);
  EXPECT_EQ(utf8_length(sixty_e_acute), 60u);
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("a\xf0\x9f\x99\x82" "b"), 3u);
  EXPECT_EQ(utf8_length("\xff\xfe"), 2u);
}

TEST(Utf8, NextCodePointDecodesAndStopsAtMalformedBytes) {
  const std::string text = "a\xc3\xa9\xe2\x80\x94\xf0\x9f\x99\x82\xff";
  std::size_t i = 0;
  EXPECT_EQ(next_code_point(text, i), U'a');
  EXPECT_EQ(next_code_point(text, i), U'\u00e9');
  EXPECT_EQ(next_code_point(text, i), U'\u2014');
  EXPECT_EQ(next_code_point(text, i), U'\U0001F642');
  EXPECT_EQ(i, 10u);
  EXPECT_EQ(next_code_point(text, i), std::nullopt);
  EXPECT_EQ(i, 10u) << "not moved past a malformed byte";
  ++i;
  EXPECT_EQ(next_code_point(text, i), std::nullopt) << "at the end";
}

TEST(Utf8, ControlCharactersC0C1AndDelAreFound) {
  EXPECT_FALSE(has_control_character("Intake \xc3\xa9 \xe2\x80\x94"));
  for (const char* bad : {"a\tb", "a\rb", "a\x7f", "a\xc2\x85" "b", "\xc2\x9f"})
    EXPECT_TRUE(has_control_character(bad)) << bad;
  EXPECT_FALSE(has_control_character("\xc2\xa0"));  // no-break space is text
}

}  // namespace
}  // namespace alliance
