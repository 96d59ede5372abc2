// The contract's constraints (superline/options.proto) read off descriptors and checked on messages,
// and the VALIDATION issues that carry the failures on both wires.
#include <gtest/gtest.h>

#include "rules.pb.h"
#include "superline/status.h"
#include "superline/validation.h"

namespace {

using superline::PathElement;
using superline::ValidationIssue;
using P = std::vector<PathElement>;
using rules::v1::Form;

// A form that meets every constraint.
Form valid() {
  Form f;
  f.set_name("ann");
  f.mutable_main_line()->set_sku("A1");
  f.set_agreed(false);  // explicit presence: set to false is set
  return f;
}

TEST(Constraints, AValidMessageHasNoIssues) {
  EXPECT_TRUE(superline::check_constraints(valid()).empty());
  Form f = valid();
  f.set_age(0);                    // min 0, inclusive
  f.set_score(1.5);                // max 1.5, inclusive
  f.add_tags("abc");               // max_len 3 per element
  f.set_blob("abcd");              // 4 bytes
  f.set_name("\xc3\xa9l\xc3\xa8n");  // 4 code points, 6 bytes: within max_len 5
  for (int i = 0; i < 3; ++i) f.add_lines()->set_sku("s");
  EXPECT_TRUE(superline::check_constraints(f).empty());
}

TEST(Constraints, EachConstraintNamesItsPathCodeAndMessage) {
  Form f;  // name, main_line and agreed unset
  f.set_age(151);
  f.set_score(2);
  f.set_blob("abcde");
  f.add_tags("ok");
  f.add_tags("long");
  for (int i = 0; i < 4; ++i) f.add_lines()->set_sku("s");
  f.mutable_lines(1)->set_sku("");
  f.mutable_lines(2)->set_qty(100);
  (*f.mutable_by_key())["k"].set_sku("toolong-sku");
  const std::vector<ValidationIssue> want = {
      {P{"name"}, "invalid_type", "Required"},
      {P{"age"}, "too_big", "Number must be less than or equal to 150"},
      {P{"lines"}, "too_big", "Array must contain at most 3 element(s)"},
      {P{"lines", uint64_t{1}, "sku"}, "invalid_type", "Required"},
      {P{"lines", uint64_t{2}, "qty"}, "too_big", "Number must be less than or equal to 99"},
      {P{"byKey", "k", "sku"}, "too_big", "String must contain at most 8 character(s)"},
      {P{"blob"}, "too_big", "Bytes must contain at most 4 byte(s)"},
      {P{"tags", uint64_t{1}}, "too_big", "String must contain at most 3 character(s)"},
      {P{"mainLine"}, "invalid_type", "Required"},
      {P{"score"}, "too_big", "Number must be less than or equal to 1.5"},
      {P{"agreed"}, "invalid_type", "Required"},
  };
  EXPECT_EQ(superline::check_constraints(f), want);

  Form small = valid();
  small.set_name("a");
  small.set_age(-1);
  small.mutable_main_line()->set_qty(-5);
  EXPECT_EQ(superline::check_constraints(small),
            (std::vector<ValidationIssue>{
                {P{"name"}, "too_small", "String must contain at least 2 character(s)"},
                {P{"age"}, "too_small", "Number must be greater than or equal to 0"},
                {P{"mainLine", "qty"}, "too_small", "Number must be greater than or equal to 1"},
            }));
}

TEST(Constraints, AnUnsetFieldIsCheckedOnlyForRequired) {
  Form f = valid();
  f.mutable_main_line()->set_qty(0);  // min 1, but 0 is "unset" for an implicit-presence int32
  EXPECT_TRUE(superline::check_constraints(f).empty());
}

TEST(Constraints, AHostilePayloadGetsItsFirstSixteenIssues) {
  Form f = valid();
  for (int i = 0; i < 10000; ++i) f.add_tags("toolong");
  EXPECT_EQ(superline::check_constraints(f).size(), 16u);
}

TEST(Constraints, AMessageWithoutConstraintsHasNone) {
  rules::v1::Ok ok;
  EXPECT_TRUE(superline::check_constraints(ok).empty());
}

TEST(ValidationIssues, TravelInTheStatusAndOnBothWires) {
  const std::vector<ValidationIssue> issues = {
      {P{"lines", uint64_t{2}, "qty"}, "too_big", "Number must be less than or equal to 99"},
      {P{}, "custom", "quote \" and \xc3\xa9"},
  };
  const absl::Status s = superline::validation_error(issues);
  EXPECT_EQ(superline::error_code(s), "VALIDATION");
  EXPECT_EQ(s.message(), "lines[2].qty: Number must be less than or equal to 99 (and 1 more)");
  EXPECT_EQ(superline::validation_issues(s), issues);
  EXPECT_EQ(superline::encode_issues(superline::Wire::kJson, issues),
            R"([{"path":["lines",2,"qty"],"code":"too_big","message":"Number must be less than or equal to 99"},)"
            R"({"path":[],"code":"custom","message":"quote \" and )"
            "\xc3\xa9\"}]");
  for (superline::Wire wire : {superline::Wire::kJson, superline::Wire::kProtobuf}) {
    EXPECT_EQ(superline::decode_issues(wire, superline::encode_issues(wire, issues)), issues);
  }
  // A VALIDATION made without issues has one, with its message.
  EXPECT_EQ(superline::validation_issues(superline::error("VALIDATION", "too late")),
            (std::vector<ValidationIssue>{{P{}, "custom", "too late"}}));
  EXPECT_TRUE(superline::validation_issues(superline::error("NOT_FOUND", "x")).empty());
  EXPECT_TRUE(superline::decode_issues(superline::Wire::kJson, "not json").empty());
}

}  // namespace
