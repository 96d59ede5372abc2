// Text the runtime sends or shows: UTF-8 checks and repair, JSON string literals, plain text.
#include "superline/internal/text.h"

#include <gtest/gtest.h>

namespace superline {
namespace {

TEST(Text, Utf8IsCheckedStrictly) {
  for (const char* good : {"", "plain", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(is_utf8(good)) << good;
  }
  for (const char* bad : {"\xff", "\xc3", "\xc3\x28", "\xc0\xaf" /* overlong */, "\xe0\x80\xaf",
                          "\xed\xa0\x80" /* surrogate */, "\xf4\x90\x80\x80" /* past U+10FFFF */,
                          "\xf8\x88\x80\x80\x80", "\xe2\x82"}) {
    EXPECT_FALSE(is_utf8(bad)) << bad;
  }
}

TEST(Text, RepairReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(repair_utf8("ok\xc3\xa9"), "ok\xc3\xa9");
  EXPECT_EQ(repair_utf8("a\xffz"), "a\xef\xbf\xbdz");
  EXPECT_EQ(repair_utf8("\xc3"), "\xef\xbf\xbd");  // a character cut in half
  EXPECT_TRUE(is_utf8(repair_utf8("\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf")));
}

TEST(Text, JsonStringsAreValidUtf8WhateverTheInput) {
  std::string out;
  append_json_string(out, "\xc3\xa9\"\n\x01\xff");
  EXPECT_EQ(out, "\"\xc3\xa9\\\"\\n\\u0001\xef\xbf\xbd\"");
  // A byte-cut quote of accented text (what a parser error snippet holds).
  std::string cut = "\xc3\xa9\xc3\xa9\xc3";
  out.clear();
  append_json_string(out, cut);
  EXPECT_TRUE(is_utf8(out));
}

TEST(Text, PlainTextHasNoControlCharacters) {
  EXPECT_TRUE(is_plain_text("alice"));
  EXPECT_TRUE(is_plain_text("\xc3\xa9l\xc3\xa8ne lee"));
  EXPECT_TRUE(is_plain_text(""));
  for (const char* bad : {"a\rb", "a\nb", "a\tb", "\x1b[31m", "a\x7f", "\xc2\x85", "\xc2\x9f", "\xff\xfe"}) {
    EXPECT_FALSE(is_plain_text(bad)) << bad;
  }
  EXPECT_FALSE(is_plain_text(std::string_view("a\0b", 3)));
  EXPECT_TRUE(is_plain_text("\xc2\xa0"));  // U+00A0 is not a control character
}

TEST(Text, ClipCutsOnACharacterBoundary) {
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xc3\xa9";
  EXPECT_TRUE(is_utf8(clip(accents)));
  EXPECT_LE(clip(accents).size(), 128u + 3);
}

}  // namespace
}  // namespace superline
