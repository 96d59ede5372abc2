#include "wire_json.h"

#include <gtest/gtest.h>

namespace {

TEST(WireJson, ReadsTheFieldsSuperlineUses) {
  auto f = superline::parse_wire_frame(R"({"t":"req","i":7,"m":"join","d":{"room":"a"},"x":[1]})");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->t, "req");
  EXPECT_EQ(f->i, "7");
  EXPECT_EQ(f->m, "join");
  EXPECT_EQ(f->d, R"({"room":"a"})");
  EXPECT_TRUE(f->has_d);
}

TEST(WireJson, KeepsStringIdsAsJson) {
  auto f = superline::parse_wire_frame(R"({"t":"sub","i":"a\"b","c":"news"})");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->i, R"("a\"b")");
  EXPECT_EQ(f->c, "news");
  EXPECT_FALSE(f->has_d);
}

TEST(WireJson, RefusesWhatIsNotAFrame) {
  for (const char* bad : {"", "{", "null", "[]", R"({"t":1})", R"({"t":""})", R"({"t":"req","i":1.5})",
                          R"({"t":"req","m":3})", R"({"t":"x","i":[1]})"}) {
    EXPECT_FALSE(superline::parse_wire_frame(bad).ok()) << bad;
  }
}

TEST(WireJson, LimitsNesting) {
  EXPECT_TRUE(
      superline::parse_wire_frame(R"({"t":"a","d":)" + std::string(60, '[') + std::string(60, ']') + "}")
          .ok());
  EXPECT_FALSE(
      superline::parse_wire_frame(R"({"t":"a","d":)" + std::string(70, '[') + std::string(70, ']') + "}")
          .ok());
}

}  // namespace
