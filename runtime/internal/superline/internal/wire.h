// The two client wires, superline.v1 (JSON text, on Boost.JSON) and superline.pb.v1 (binary
// superline.wire.Frame), both read into and written from one WireFrame, so the server and the client
// handle frames the same way whichever wire a connection speaks. Payloads stay in the wire's own
// encoding (JSON text or protobuf bytes): they are decoded against the contract's types later.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "superline/frame.h"

namespace superline {

// The fields of a frame that superline reads; an absent field is empty. On the JSON wire `i` and `d`
// keep their JSON text ("7", {"room":"a"}); on the binary wire `i` is the decimal id and `d` bytes.
struct WireFrame {
  std::string t;
  std::string i;
  std::string m;     // req/cev: the method; err: the message
  std::string c;     // sub/unsub/pub: the topic
  std::string e;     // evt: the event
  std::string code;  // err
  std::string d;
  bool has_d = false;
  std::string nd;  // pub: the origin node
};

// INVALID_ARGUMENT if `data` is not a frame: on JSON, not an object with a string "t", a known field
// of the wrong type, or nesting deeper than 64 levels; on the binary wire, not a superline.wire.Frame with a type.
absl::StatusOr<WireFrame> parse_frame(Wire wire, std::string_view data);
absl::StatusOr<WireFrame> parse_wire_frame(std::string_view text);  // the JSON wire

// Writes the fields that are set, JSON keys in superline.v1's order (t, i, e, c, code, m, d, nd).
std::string encode_frame(Wire wire, const WireFrame& frame);

}  // namespace superline
