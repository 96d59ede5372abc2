// Payload JSON against the contract's types: what protobuf's parser alone would let through is
// VALIDATION in every mode, what the JSON mapping allows still decodes, unknown fields stay ignored.
#include <gtest/gtest.h>

#include "superline/frame.h"
#include "values.pb.h"

namespace {

absl::Status decode(const std::string& json, bool strict = false) {
  values::v1::Everything out;
  return superline::decode_payload(superline::Wire::kJson, json, out, strict);
}

TEST(JsonValues, WrongValuesForKnownFieldsAreRefused) {
  const std::pair<const char*, const char*> refused[] = {
      {R"({"flag":"yes"})", "flag: expected true or false"},
      {R"({"flag":"true"})", "flag: expected true or false"},
      {R"({"teams":"TEAM_RED"})", "teams: expected an array"},
      {R"({"team":"TEAM_GREEN"})", "team: \"TEAM_GREEN\" is not a value of values.v1.Team"},
      {R"({"teams":["TEAM_RED","TEAM_GREEN"]})", "teams[1]: \"TEAM_GREEN\" is not a value of"},
      {R"({"inners":{"x":1}})", "inners: expected an array"},
      {R"({"inners":[null]})", "inners[0]: expected a value"},
      {R"({"inner":[1]})", "inner: expected an object"},
      {R"({"inner":{"x":true}})", "x"},
      {R"({"counts":[1]})", "counts: expected an object (a map)"},
      {R"({"named":{"a":{"x":"no"}}})", "x"},
      {R"({"tags":"one"})", "tags: expected an array"},
      {R"({"team":true})", "team: expected a name of values.v1.Team"},
      {R"([1,2])", "expected an object"},
  };
  for (const auto& [json, why] : refused) {
    const absl::Status s = decode(json);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << json;
    EXPECT_NE(s.message().find(why), std::string::npos) << json << " -> " << s;
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
