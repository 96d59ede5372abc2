// Parsing of superline.v1 JSON frames (both directions), on Boost.JSON. Payloads stay JSON text: they
// are decoded against the contract's message types later (decode_payload).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace superline {

// The fields of a frame that superline reads; an absent field is empty. `i` and `d` keep their JSON
// text ("7", {"room":"a"}), everything else its string value.
struct WireFrame {
  std::string t;
  std::string i;
  std::string m;     // req/cev: the method; err: the message
  std::string c;     // sub/unsub/pub: the topic
  std::string e;     // evt: the event
  std::string code;  // err
  std::string d;
  bool has_d = false;
};

// INVALID_ARGUMENT if `text` is not a JSON object with a string "t", or a known field has the wrong
// type. Nesting deeper than 64 levels is refused.
absl::StatusOr<WireFrame> parse_wire_frame(std::string_view text);

}  // namespace superline
