#include "superline/internal/wire.h"

#include <gtest/gtest.h>

#include "superline/wire.pb.h"

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

TEST(WireEncode, JsonKeepsSuperLinesKeyOrder) {
  superline::WireFrame f;
  f.t = "err";
  f.i = "3";
  f.code = "NOT_FOUND";
  f.m = "Unknown message: x";
  EXPECT_EQ(superline::encode_frame(superline::Wire::kJson, f),
            R"({"t":"err","i":3,"code":"NOT_FOUND","m":"Unknown message: x"})");
  superline::WireFrame pub;
  pub.t = "pub";
  pub.c = "prices";
  pub.d = R"({"v":1})";
  pub.has_d = true;
  pub.nd = "n1";
  EXPECT_EQ(superline::encode_frame(superline::Wire::kJson, pub),
            R"({"t":"pub","c":"prices","d":{"v":1},"nd":"n1"})");
}

TEST(WireBinary, RoundTripsEveryField) {
  superline::WireFrame f;
  f.t = "req";
  f.i = "42";
  f.m = "join";
  f.d = std::string("\x0a\x03" "abc\x00", 6);  // bytes, NUL included
  f.has_d = true;
  const std::string bytes = superline::encode_frame(superline::Wire::kProtobuf, f);
  auto back = superline::parse_frame(superline::Wire::kProtobuf, bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->t, "req");
  EXPECT_EQ(back->i, "42");
  EXPECT_EQ(back->m, "join");
  EXPECT_EQ(back->d, f.d);
}

TEST(WireBinary, RefusesWhatIsNotAFrame) {
  superline::WireFrame untyped;  // no type
  untyped.m = "x";
  for (const std::string& bad : {std::string("\xff\xff\xff"), std::string("\x08\x63", 2),  // type 99
                                 superline::encode_frame(superline::Wire::kProtobuf, untyped)}) {
    EXPECT_FALSE(superline::parse_frame(superline::Wire::kProtobuf, bad).ok());
  }
}

}  // namespace

namespace {

TEST(WireJson, DuplicateKeysAreRefused) {
  for (const char* bad : {R"({"t":"req","t":"sub","i":1,"c":"x"})", R"({"t":"req","i":1,"i":2,"m":"a"})",
                          R"({"t":"req","m":"a","d":{},"d":{"x":1}})", R"({"t":"req","\u0074":"sub"})"}) {
    auto f = superline::parse_wire_frame(bad);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.status().message(), "malformed frame: duplicate key") << bad;
  }
  // Keys repeated inside nested values or inside strings are not the envelope's.
  for (const char* good : {R"({"t":"req","i":1,"m":"a","d":{"x":1,"y":[{"x":2},{"x":3}]}})",
                           R"({"t":"req","m":"a,\"t\":\"b\"","d":"{,,}"})", R"({"t":"ping"})"}) {
    EXPECT_TRUE(superline::parse_wire_frame(good).ok()) << good;
  }
}

TEST(WireBinary, TextFieldsAreAlwaysValidUtf8) {
  superline::WireFrame frame;
  frame.t = "err";
  frame.code = "BAD_REQUEST";
  frame.m = "cut in half: \xc3";
  const std::string bytes = superline::encode_frame(superline::Wire::kProtobuf, frame);
  superline::wire::Frame parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));  // a strict proto3 parser would refuse invalid UTF-8
  EXPECT_EQ(parsed.m(), "cut in half: \xef\xbf\xbd");
  const std::string json = superline::encode_frame(superline::Wire::kJson, frame);
  EXPECT_EQ(json, "{\"t\":\"err\",\"code\":\"BAD_REQUEST\",\"m\":\"cut in half: \xef\xbf\xbd\"}");
}

}  // namespace
