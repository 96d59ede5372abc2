// Payload JSON against the contract's types: what protobuf's parser alone would let through is
// VALIDATION in every mode, what the JSON mapping allows still decodes, unknown fields stay ignored.
#include <gtest/gtest.h>

#include <tuple>

#include "superline/frame.h"
#include "superline/status.h"
#include "superline/validation.h"
#include "values.pb.h"

namespace {

absl::Status decode(const std::string& json, bool strict = false) {
  values::v1::Everything out;
  return superline::decode_payload(superline::Wire::kJson, json, out, strict);
}

TEST(JsonValues, WrongValuesForKnownFieldsAreRefusedNamingTheirPath) {
  using P = std::vector<superline::PathElement>;
  const std::tuple<const char*, P, const char*> refused[] = {
      {R"({"flag":"yes"})", P{"flag"}, "Expected boolean, received string"},
      {R"({"flag":"true"})", P{"flag"}, "Expected boolean, received string"},
      {R"({"teams":"TEAM_RED"})", P{"teams"}, "Expected array, received string"},
      {R"({"team":"TEAM_GREEN"})", P{"team"}, "\"TEAM_GREEN\" is not a value of values.v1.Team"},
      {R"({"teams":["TEAM_RED","TEAM_GREEN"]})", P{"teams", uint64_t{1}}, "\"TEAM_GREEN\" is not a value of values.v1.Team"},
      {R"({"inners":{"x":1}})", P{"inners"}, "Expected array, received object"},
      {R"({"inners":[null]})", P{"inners", uint64_t{0}}, "Expected a value, received null"},
      {R"({"inner":[1]})", P{"inner"}, "Expected object, received array"},
      {R"({"inner":{"x":true}})", P{"inner", "x"}, "Expected number, received boolean"},
      {R"({"counts":[1]})", P{"counts"}, "Expected object (a map), received array"},
      {R"({"named":{"a":{"x":"no"}}})", P{}, nullptr},  // a string for a number: protobuf's parser says so
      {R"({"tags":"one"})", P{"tags"}, "Expected array, received string"},
      {R"({"team":true})", P{"team"}, "Expected a name of values.v1.Team, received boolean"},
      {R"({"text":5})", P{"text"}, "Expected string, received number"},
      {R"({"named":{"a":{"x":[]}}})", P{"named", "a", "x"}, "Expected number, received array"},
      {R"([1,2])", P{}, "Expected object, received array"},
  };
  for (const auto& [json, path, why] : refused) {
    const absl::Status s = decode(json);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << json;
    EXPECT_EQ(superline::error_code(s), "VALIDATION") << json;
    const std::vector<superline::ValidationIssue> issues = superline::validation_issues(s);
    ASSERT_EQ(issues.size(), 1u) << json;
    EXPECT_EQ(issues[0].code, "invalid_type") << json;
    EXPECT_EQ(issues[0].path, path) << json << " -> " << s;
    if (why != nullptr) EXPECT_EQ(issues[0].message, why) << json;
    EXPECT_TRUE(absl::IsInvalidArgument(decode(json, /*strict=*/true))) << json;
  }
}

TEST(JsonValues, WhatTheMappingAllowsStillDecodes) {
  for (const char* json :
       {R"({"flag":true,"team":"TEAM_BLUE","teams":["TEAM_RED",2],"count":"12","big":"12345678901234",
            "text":"t","blob":"AAE=","inner":{"x":1},"inners":[{"x":2}],"counts":{"a":1},
            "named":{"b":{"x":3}},"maybe":0,"at":"2026-12-01T00:00:00Z","tags":["a"]})",
        R"({"team":7})",                         // proto3 enums are open
        R"({"flag":null,"inner":null})",         // null: the default value
        R"({"teamColor":"red","team_color":"red"})",  // json_name and proto name
        R"({"fromTheFuture":[1,{"x":"?"}]})",    // unknown fields stay ignored
        "null", ""}) {
    EXPECT_TRUE(decode(json).ok()) << json << " -> " << decode(json);
  }
  EXPECT_TRUE(absl::IsInvalidArgument(decode(R"({"fromTheFuture":1})", /*strict=*/true)));
}

}  // namespace
