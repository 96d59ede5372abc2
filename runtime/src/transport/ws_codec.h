// RFC 6455 framing as a server sees it: the header of an unmasked server frame, and an incremental
// reader of masked client frames that reassembles fragmented messages and checks every rule a server
// must enforce (masking, reserved bits, opcodes, control-frame limits, UTF-8 of text and close
// reasons, close codes, the message size limit).
//
// Our own codec instead of Beast's websocket::stream: server frames are unmasked, so a broadcast's
// bytes are identical for every recipient and a connection's queued frames can leave in one gather
// write; and an idle connection holds no buffer at all (the reader keeps bytes only while a frame is
// incomplete).
// Thread-safety: none; a FrameReader belongs to one connection's strand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace superline::ws {

enum Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes the reader fails a connection with.
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseInvalidPayload = 1007;
inline constexpr uint16_t kCloseMessageTooBig = 1009;
// "No status code was present" (never sent on the wire).
inline constexpr uint16_t kCloseNoStatus = 1005;

inline constexpr size_t kMaxHeaderBytes = 10;

// Writes the header of a final, unmasked frame carrying `payload_size` bytes; returns its length.
size_t write_header(uint8_t (&out)[kMaxHeaderBytes], Opcode opcode, uint64_t payload_size);

// A frame as a client sends it, masked with `key` (the load generator uses 0: a valid key that
// leaves the payload as it is). `rsv` sets reserved bits, for tests that must break the rules.
std::string client_frame(uint8_t opcode, std::string_view payload, uint32_t key, bool fin = true,
                         uint8_t rsv = 0);

// The payload of a close frame: code and reason (the reason cut to fit a control frame).
std::string close_payload(uint16_t code, std::string_view reason);

// A close code a peer may send (RFC 6455 §7.4 and the IANA registry).
bool valid_close_code(uint16_t code);

// What the reader hands over. The views are valid only during the call.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void on_message(std::string_view data, bool binary) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  // `code` is kCloseNoStatus when the frame carried none.
  virtual void on_close(uint16_t code, std::string_view reason) = 0;
};

class FrameReader {
 public:
  explicit FrameReader(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Consumes bytes read from the socket (unmasking them in place) and calls `sink` for each complete
  // message and control frame. Returns 0, or the close code the connection must be failed with; after
  // a failure or a close frame the reader consumes nothing more.
  uint16_t consume(char* data, size_t size, FrameSink& sink);

  // Bytes held for an incomplete frame or message (0 for an idle connection).
  size_t buffered() const { return pending_.size() + message_.size(); }

 private:
  // Parses complete frames from [data, data + size); returns bytes consumed, or sets failure_.
  size_t parse(char* data, size_t size, FrameSink& sink);
  bool deliver(uint8_t opcode, bool fin, char* payload, size_t size, FrameSink& sink);

  const size_t max_message_bytes_;
  std::string pending_;  // the start of an incomplete frame
  std::string message_;  // fragments of an unfinished message
  uint8_t message_opcode_ = 0;
  bool in_message_ = false;
  bool done_ = false;  // failed, or a close frame arrived
  uint16_t failure_ = 0;
};

}  // namespace superline::ws
