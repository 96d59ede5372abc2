// Encoding of server->client frames and of payloads, for both client wires: superline.v1 (JSON text)
// and superline.pb.v1 (binary superline.wire.Frame). A frame is encoded once per wire and the same
// bytes are shared by every recipient's write queue.
//
// Words, one meaning each: a *frame* is one unit of the superline protocol ({"t":"evt",...}), sent
// as one WebSocket message: WireFrame as parsed, superline.wire.Frame on the binary wire,
// EncodedFrame as bytes, SharedFrame those bytes shared by many queues. The RFC 6455 unit is a
// *ws frame* and lives in the transport's ws:: namespace only. A *payload* is the contract's
// message a frame carries; an *envelope* is what crosses the adapter (superline/adapter.h).
// Thread-safety: free functions, no shared state.
#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace superline {

// The wire a connection speaks, chosen by WebSocket subprotocol at the upgrade.
enum class Wire : uint8_t {
  kJson,      // kJsonSubprotocol, or nothing offered: text frames
  kProtobuf,  // kBinarySubprotocol: binary frames
};
inline constexpr std::string_view kJsonSubprotocol = "superline.v1";
inline constexpr std::string_view kBinarySubprotocol = "superline.pb.v1";
// The upgrade response header naming the server's contract (ContractInfo::id).
inline constexpr std::string_view kContractHeader = "Superline-Contract";

// A server frame in the encodings its recipients may speak. A fan-out carries both; a reply to one
// connection carries only that connection's.
struct EncodedFrame {
  std::string json;
  std::string binary;
  const std::string& in(Wire wire) const { return wire == Wire::kJson ? json : binary; }
};

// An encoded frame, shared read-only by every queue it is written to.
using SharedFrame = std::shared_ptr<const EncodedFrame>;

// A payload in the wire's encoding: protobuf's JSON mapping (printing fields at their default values
// too), or protobuf binary.
std::string encode_payload(Wire wire, const google::protobuf::Message& payload);

// Parses a payload in the wire's encoding into `out`. JSON "null", or empty data, is the empty
// message. Unknown JSON fields are ignored unless `strict`; a known field's value must be one its
// type allows in every mode (no "yes" for a bool, an array for a repeated field, a name the enum
// has). Malformed data is VALIDATION (superline/validation.h), its issue naming the field.
absl::Status decode_payload(Wire wire, std::string_view data, google::protobuf::Message& out,
                            bool strict = false);

// PAYLOAD_TOO_LARGE if an encoding `frame` carries is over `limit` bytes (a fan-out carries both, a
// reply to one connection only its own).
absl::Status check_size(const EncodedFrame& frame, std::size_t limit);

// Fan-out frames, in both encodings.
SharedFrame encode_event(std::string_view event, const google::protobuf::Message& payload);
SharedFrame encode_publish(std::string_view topic, const google::protobuf::Message& payload,
                     std::string_view node_id);

}  // namespace superline
