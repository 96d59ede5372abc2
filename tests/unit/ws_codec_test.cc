// The server's RFC 6455 codec: frame headers it writes, and every rule it enforces on client frames.
#include "ws_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace superline::ws {
namespace {

// A client frame: masked with a fixed key unless `masked` is false.
std::string client_frame(uint8_t first_byte, std::string payload, bool masked = true) {
  std::string out(1, static_cast<char>(first_byte));
  const uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((uint64_t{payload.size()} >> (8 * i)) & 0xFF);
  }
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked) {
    out.append(key, 4);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ key[i % 4]);
  }
  return out + payload;
}
std::string text(std::string payload, bool fin = true) {
  return client_frame((fin ? 0x80 : 0) | kText, payload);
}
std::string cont(std::string payload, bool fin = true) {
  return client_frame((fin ? 0x80 : 0) | kContinuation, payload);
}

struct Recorder : FrameSink {
  void on_message(std::string_view data, bool binary) override {
    messages.push_back((binary ? "bin:" : "txt:") + std::string(data));
  }
  void on_ping(std::string_view payload) override { pings.emplace_back(payload); }
  void on_close(uint16_t c, std::string_view r) override {
    code = c;
    reason = r;
  }
  std::vector<std::string> messages, pings;
  uint16_t code = 0;
  std::string reason;
};

struct Fed {
  uint16_t failure;
  Recorder got;
};
Fed feed(std::string bytes, size_t max = 1 << 20, size_t chunk = 0) {
  FrameReader reader(max);
  Fed out{0, {}};
  if (chunk == 0) chunk = bytes.size();
  for (size_t i = 0; i < bytes.size() && out.failure == 0; i += chunk) {
    std::string piece = bytes.substr(i, chunk);
    out.failure = reader.consume(piece.data(), piece.size(), out.got);
  }
  return out;
}

TEST(WsCodec, HeadersUseTheShortestLength) {
  uint8_t h[kMaxHeaderBytes];
  ASSERT_EQ(write_header(h, kText, 125), 2u);
  EXPECT_EQ(h[0], 0x81);
  EXPECT_EQ(h[1], 125);
  ASSERT_EQ(write_header(h, kBinary, 126), 4u);
  EXPECT_EQ(h[0], 0x82);
  EXPECT_EQ(h[1], 126);
  EXPECT_EQ((h[2] << 8) | h[3], 126);
  ASSERT_EQ(write_header(h, kText, 70000), 10u);
  EXPECT_EQ(h[1], 127);
  EXPECT_EQ((h[7] << 16) | (h[8] << 8) | h[9], 70000);
}

TEST(WsCodec, ReadsMaskedMessagesOfEveryLengthEncoding) {
  for (size_t size : {0, 5, 125, 126, 65535, 65536, 200000}) {
    std::string payload(size, 'a');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
    Fed fed = feed(text(payload));
    EXPECT_EQ(fed.failure, 0) << size;
    ASSERT_EQ(fed.got.messages.size(), 1u) << size;
    EXPECT_EQ(fed.got.messages[0], "txt:" + payload) << size;
  }
}

TEST(WsCodec, ReassemblesFramesSplitAcrossReadsByteByByte) {
  Fed fed = feed(text("hello") + client_frame(0x82, std::string("\x00\xff", 2)) + text("world"), 1 << 20, 1);
  EXPECT_EQ(fed.failure, 0);
  EXPECT_EQ(fed.got.messages,
            (std::vector<std::string>{"txt:hello", std::string("bin:\x00\xff", 6), "txt:world"}));
}

TEST(WsCodec, ReassemblesFragmentsWithControlFramesBetweenThem) {
  Fed fed = feed(text("fra", false) + client_frame(0x89, "p") + cont("gme", false) + cont("nt"));
  EXPECT_EQ(fed.failure, 0);
  EXPECT_EQ(fed.got.messages, std::vector<std::string>{"txt:fragment"});
  EXPECT_EQ(fed.got.pings, std::vector<std::string>{"p"});
}

TEST(WsCodec, ProtocolViolationsFailWith1002) {
  EXPECT_EQ(feed(client_frame(0x81, "x", /*masked=*/false)).failure, kCloseProtocolError);  // unmasked
  EXPECT_EQ(feed(client_frame(0xC1, "x")).failure, kCloseProtocolError);                    // RSV1
  EXPECT_EQ(feed(client_frame(0x83, "x")).failure, kCloseProtocolError);                    // opcode 3
  EXPECT_EQ(feed(client_frame(0x8B, "x")).failure, kCloseProtocolError);                    // opcode 11
  EXPECT_EQ(feed(cont("x")).failure, kCloseProtocolError);                     // nothing to continue
  EXPECT_EQ(feed(text("a", false) + text("b")).failure, kCloseProtocolError);  // new message mid-way
  EXPECT_EQ(feed(client_frame(0x09, "p")).failure, kCloseProtocolError);       // fragmented ping
  EXPECT_EQ(feed(client_frame(0x89, std::string(126, 'p'))).failure, kCloseProtocolError);  // long ping
  EXPECT_EQ(feed(client_frame(0x88, "x")).failure, kCloseProtocolError);                    // 1-byte close
  EXPECT_EQ(feed(client_frame(0x88, std::string("\x03\xe7", 2))).failure, kCloseProtocolError);  // 999
  EXPECT_EQ(feed(client_frame(0x88, std::string("\x03\xee", 2))).failure, kCloseProtocolError);  // 1006
}

TEST(WsCodec, InvalidUtf8FailsWith1007) {
  EXPECT_EQ(feed(text("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")).failure, 0);  // valid Greek
  EXPECT_EQ(feed(text("\xff")).failure, kCloseInvalidPayload);
  EXPECT_EQ(feed(text("\xed\xa0\x80")).failure, kCloseInvalidPayload);  // a surrogate
  EXPECT_EQ(feed(text("\xc0\xaf")).failure, kCloseInvalidPayload);      // overlong
  EXPECT_EQ(feed(text("\xce", false) + cont("\xba")).failure, 0);       // split across fragments
  EXPECT_EQ(feed(client_frame(0x82, "\xff")).failure, 0);               // binary is not checked
  EXPECT_EQ(feed(client_frame(0x88, std::string("\x03\xe8\xff", 3))).failure, kCloseInvalidPayload);
}

TEST(WsCodec, OversizeFailsWith1009FromTheHeaderAlone) {
  // Only the header of a 2 MB frame arrives: the reader refuses without waiting for the payload.
  std::string frame = text(std::string(2 << 20, 'x'));
  EXPECT_EQ(feed(frame.substr(0, 14), 1 << 20).failure, kCloseMessageTooBig);
  // Fragments count together.
  EXPECT_EQ(feed(text(std::string(600, 'x'), false) + cont(std::string(600, 'x')), 1000).failure,
            kCloseMessageTooBig);
  EXPECT_EQ(feed(text(std::string(1000, 'x')), 1000).failure, 0);
}

TEST(WsCodec, CloseEndsTheStreamAndReportsCodeAndReason) {
  Fed fed = feed(client_frame(0x88, std::string("\x03\xe8") + "bye") + text("ignored"));
  EXPECT_EQ(fed.failure, 0);
  EXPECT_EQ(fed.got.code, 1000);
  EXPECT_EQ(fed.got.reason, "bye");
  EXPECT_TRUE(fed.got.messages.empty());
  EXPECT_EQ(feed(client_frame(0x88, "")).got.code, kCloseNoStatus);
}

TEST(WsCodec, HoldsNoBufferBetweenCompleteFrames) {
  FrameReader reader(1 << 20);
  Recorder got;
  std::string bytes = text(std::string(5000, 'x'));
  std::string first = bytes.substr(0, 3000), rest = bytes.substr(3000);
  EXPECT_EQ(reader.consume(first.data(), first.size(), got), 0);
  EXPECT_EQ(reader.buffered(), 3000u);
  EXPECT_EQ(reader.consume(rest.data(), rest.size(), got), 0);
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(got.messages.size(), 1u);
}

TEST(WsCodec, ClosePayloadCutsLongReasonsOnACharacterBoundary) {
  std::string reason;
  for (int i = 0; i < 100; ++i) reason += "\xce\xba";  // 200 bytes of 2-byte characters
  std::string payload = close_payload(1008, reason);
  EXPECT_LE(payload.size(), 125u);
  EXPECT_EQ(payload.size() % 2, 0u);
  EXPECT_EQ(feed(client_frame(0x88, payload)).got.code, 1008);  // still valid UTF-8
}

// What readers hold of incomplete messages comes out of one budget; past it the reader asking for
// more fails with 1013, each may hold a small allowance regardless, and all is given back.
TEST(WsCodec, IncompleteMessagesShareOneBudget) {
  BufferBudget budget(100'000);
  Recorder got;
  std::string big = text(std::string(80'000, 'x'));
  big.pop_back();  // one byte short
  {
    FrameReader first(1 << 20, &budget);
    EXPECT_EQ(first.consume(big.data(), big.size(), got), 0);
    EXPECT_GE(budget.used(), 80'000u);
    EXPECT_EQ(budget.used(), first.charged());

    FrameReader second(1 << 20, &budget);
    std::string again = text(std::string(80'000, 'y'));
    again.pop_back();
    EXPECT_EQ(second.consume(again.data(), again.size(), got), kCloseTryAgainLater);
    EXPECT_EQ(second.charged(), 0u);  // failed: holds nothing

    // A frame split across segments fits the allowance even with the budget spent.
    FrameReader healthy(1 << 20, &budget);
    std::string small = text(std::string(2000, 's'));
    std::string head = small.substr(0, 1000), tail = small.substr(1000);
    EXPECT_EQ(healthy.consume(head.data(), head.size(), got), 0);
    EXPECT_EQ(healthy.consume(tail.data(), tail.size(), got), 0);
    EXPECT_EQ(got.messages.size(), 1u);

    // The first one completes its message: what it held is given back.
    std::string last = "x";
    EXPECT_EQ(first.consume(last.data(), last.size(), got), 0);
    EXPECT_EQ(got.messages.size(), 2u);
    EXPECT_EQ(first.charged(), 0u);
  }
  EXPECT_EQ(budget.used(), 0u);
}

TEST(WsCodec, FragmentsCountAgainstTheBudgetToo) {
  BufferBudget budget(50'000);
  Recorder got;
  FrameReader reader(1 << 20, &budget);
  std::string start = text(std::string(10'000, 'f'), /*fin=*/false);
  EXPECT_EQ(reader.consume(start.data(), start.size(), got), 0);
  uint16_t failure = 0;
  for (int i = 0; i < 10 && failure == 0; ++i) {
    std::string more = cont(std::string(10'000, 'f'), /*fin=*/false);
    failure = reader.consume(more.data(), more.size(), got);
  }
  EXPECT_EQ(failure, kCloseTryAgainLater);
  EXPECT_LE(budget.used(), 50'000u + FrameReader::kAllowanceBytes);
}

}  // namespace
}  // namespace superline::ws
