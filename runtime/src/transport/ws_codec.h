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

#include <atomic>
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
inline constexpr uint16_t kCloseTryAgainLater = 1013;  // the inbound budget is spent
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

// The Sec-WebSocket-Accept value answering a client's Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
std::string accept_key(std::string_view client_key);

// What the reader hands over. The views are valid only during the call.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void on_message(std::string_view data, bool binary) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  // `code` is kCloseNoStatus when the frame carried none.
  virtual void on_close(uint16_t code, std::string_view reason) = 0;
};

// Memory that many readers share for what they hold of incomplete frames and messages (the
// process-wide bound on partially received messages). Thread-safety: every method, any thread.
class BufferBudget {
 public:
  explicit BufferBudget(size_t limit) : limit_(limit) {}
  // Takes `bytes`; false, taking nothing, if that would pass the limit.
  bool take(size_t bytes);
  // Takes `bytes` whatever the limit (a reader's small allowance).
  void force(size_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  void give_back(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

class FrameReader {
 public:
  // What a reader may hold without asking its budget: a frame split across a few TCP segments, so a
  // healthy client is served even while others have spent the budget.
  static constexpr size_t kAllowanceBytes = 8 * 1024;

  // Without a budget the reader is bound by `max_message_bytes` only.
  explicit FrameReader(size_t max_message_bytes, BufferBudget* budget = nullptr)
      : max_message_bytes_(max_message_bytes), budget_(budget) {}
  ~FrameReader() { release(); }
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;

  // Consumes bytes read from the socket (unmasking them in place) and calls `sink` for each complete
  // message and control frame. Returns 0, or the close code the connection must be failed with
  // (kCloseTryAgainLater when holding the rest of an incomplete message would pass the budget);
  // after a failure or a close frame the reader consumes nothing more.
  uint16_t consume(char* data, size_t size, FrameSink& sink);

  // Bytes held for an incomplete frame or message (0 for an idle connection).
  size_t buffered() const { return pending_.size() + message_.size(); }
  // Bytes of memory held for them, as charged to the budget.
  size_t charged() const { return charged_; }

 private:
  // Parses complete frames from [data, data + size); returns bytes consumed, or sets failure_.
  size_t parse(char* data, size_t size, FrameSink& sink);
  bool deliver(uint8_t opcode, bool fin, char* payload, size_t size, FrameSink& sink);
  // Appends to `buffer` (pending_ or message_), charging its growth to the budget first; false
  // (failing the reader) if the budget refuses. `final_size`, if known, is what the buffer will
  // hold once complete (0: unknown).
  bool append(std::string& buffer, const char* data, size_t size, size_t final_size);
  // Charges the buffers' capacity as it is now (after they shrank or were given away).
  void recharge();
  void release();

  const size_t max_message_bytes_;
  BufferBudget* const budget_;
  size_t charged_ = 0;           // capacity of pending_ and message_, as taken from budget_
  size_t incomplete_frame_ = 0;  // the size of the frame pending_ starts with, once its header is in
  std::string pending_;  // the start of an incomplete frame
  std::string message_;  // fragments of an unfinished message
  uint8_t message_opcode_ = 0;
  bool in_message_ = false;
  bool done_ = false;  // failed, or a close frame arrived
  uint16_t failure_ = 0;
};

}  // namespace superline::ws
