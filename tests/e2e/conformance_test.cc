// WebSocket conformance of the real chat_server, case by case, in the manner of the Autobahn
// testsuite's categories: 1 framing, 2 ping/pong, 3 reserved bits, 4 opcodes, 5 fragmentation,
// 6 UTF-8, 7 close handling, 9 limits and volume (a ping flood and a lagging reader among them),
// 10 delivery split across TCP writes. Every case sends raw bytes on its own connection and checks
// what comes back: a reply to the request it carried, a pong, or a close with the expected code.
// Each case prints one line.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ws_test_client.h"

namespace e2e {
namespace {

constexpr auto kCont = RawWsClient::kCont, kText = RawWsClient::kText, kBinary = RawWsClient::kBinary,
               kClose = RawWsClient::kClose, kPing = RawWsClient::kPing, kPong = RawWsClient::kPong;
using RawClient = RawWsClient;

std::string frame(uint8_t opcode, const std::string& payload, bool fin = true, uint8_t rsv = 0) {
  return RawWsClient::frame(opcode, payload, fin, rsv);
}

std::string close_payload(uint16_t code, const std::string& reason = "") {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + reason;
}

// A request the chat server answers with {"t":"res","i":<id>,...}; `pad` spaces make it longer.
std::string request(int id, size_t pad = 0, const std::string& extra = "") {
  return R"({"t":"req","i":)" + std::to_string(id) + R"(,"m":"peers","d":{})" + extra + "}" +
         std::string(pad, ' ');
}

// One case: what to send, and a check of what came back; `receive_buffer` above 0 gives the
// client a small SO_RCVBUF, so what it does not read piles up in the server, not in the kernel.
struct Case {
  std::string id;
  std::string what;
  std::function<bool(RawClient&)> run;
  int receive_buffer = 0;
};

// The expectations.
std::function<bool(RawClient&)> answered_with(std::string bytes, int id) {
  return [bytes, id](RawClient& c) {
    c.send(bytes);
    return c.answered(R"("i":)" + std::to_string(id) + ",");
  };
}
std::function<bool(RawClient&)> closed_with(std::string bytes, uint16_t code) {
  return [bytes, code](RawClient& c) {
    c.send(bytes);
    return c.close_code() == code;
  };
}

std::vector<Case> cases() {
  std::vector<Case> all;
  auto add = [&](std::string id, std::string what, std::function<bool(RawClient&)> run, int receive_buffer = 0) {
    all.push_back({std::move(id), std::move(what), std::move(run), receive_buffer});
  };
  // 1 Framing: messages of every length encoding, text and binary.
  int n = 0;
  for (size_t pad : {0, 80, 90, 65400, 65500, 200000}) {
    const std::string m = request(++n, pad);
    add("1.1." + std::to_string(n), "text message of " + std::to_string(m.size()) + " bytes",
        answered_with(frame(kText, m), n));
  }
  add("1.2.1", "binary message (JSON in a binary frame)", answered_with(frame(kBinary, request(7)), 7));
  add("1.2.2", "empty text message (answered BAD_REQUEST, stays open)", [](RawClient& c) {
    c.send(frame(kText, ""));
    return c.answered(R"("code":"BAD_REQUEST")") &&
           (c.send(frame(kText, request(8))), c.answered(R"("i":8,)"));
  });
  // 2 Ping/pong.
  for (size_t size : {0, 1, 125}) {
    add("2.1." + std::to_string(size), "ping with " + std::to_string(size) + " bytes gets the same pong",
        [size](RawClient& c) {
          const std::string payload(size, 'p');
          c.send(frame(kPing, payload));
          auto f = c.read();
          return f && f->opcode == kPong && f->payload == payload;
        });
  }
  add("2.2", "ping of 126 bytes", closed_with(frame(kPing, std::string(126, 'p')), 1002));
  add("2.3", "unsolicited pong is ignored", answered_with(frame(kPong, "x") + frame(kText, request(9)), 9));
  add("2.4", "fragmented ping", closed_with(frame(kPing, "p", /*fin=*/false), 1002));
  add("2.5", "ten pings in one write, ten pongs", [](RawClient& c) {
    std::string bytes;
    for (int i = 0; i < 10; ++i) bytes += frame(kPing, std::to_string(i));
    c.send(bytes);
    for (int i = 0; i < 10; ++i) {
      auto f = c.read();
      if (!f || f->opcode != kPong || f->payload != std::to_string(i)) return false;
    }
    return true;
  });
  // 3 Reserved bits (no extension is negotiated).
  for (uint8_t rsv : {0x40, 0x20, 0x10, 0x70}) {
    add("3." + std::to_string(rsv >> 4), "RSV bits " + std::to_string(rsv >> 4) + " set",
        closed_with(frame(kText, request(1), true, rsv), 1002));
  }
  // 4 Reserved opcodes.
  for (uint8_t op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    add("4." + std::to_string(op), "reserved opcode " + std::to_string(op),
        closed_with(frame(op, "x"), 1002));
  }
  // 5 Fragmentation.
  const std::string whole = request(10);
  add("5.1", "text in two fragments",
      answered_with(frame(kText, whole.substr(0, 5), false) + frame(kCont, whole.substr(5)), 10));
  add("5.2", "text in one fragment per byte", [whole](RawClient& c) {
    std::string bytes = frame(kText, whole.substr(0, 1), false);
    for (size_t i = 1; i + 1 < whole.size(); ++i) bytes += frame(kCont, whole.substr(i, 1), false);
    c.send(bytes + frame(kCont, whole.substr(whole.size() - 1)));
    return c.answered(R"("i":10,)");
  });
  add("5.3", "ping between fragments: pong, then the message", [whole](RawClient& c) {
    c.send(frame(kText, whole.substr(0, 5), false) + frame(kPing, "mid") + frame(kCont, whole.substr(5)));
    auto f = c.read();
    return f && f->opcode == kPong && f->payload == "mid" && c.answered(R"("i":10,)");
  });
  add("5.4", "continuation with nothing to continue", closed_with(frame(kCont, "x"), 1002));
  add("5.5", "new message before the fragmented one ends",
      closed_with(frame(kText, "ab", false) + frame(kText, "cd"), 1002));
  add("5.6", "fragmented close", closed_with(frame(kClose, close_payload(1000), false), 1002));
  // 6 UTF-8.
  add("6.1", "valid multi-byte text", answered_with(frame(kText, request(11, 0, R"(,"x":"κόσμε 𝄞")")), 11));
  add("6.2", "valid text split inside a character across fragments", [](RawClient& c) {
    const std::string m = request(12, 0, R"(,"x":"κ")");
    const size_t cut = m.find("\xce") + 1;
    c.send(frame(kText, m.substr(0, cut), false) + frame(kCont, m.substr(cut)));
    return c.answered(R"("i":12,)");
  });
  int u = 0;
  for (const char* bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xce", "\x80"}) {
    add("6.3." + std::to_string(++u), "invalid UTF-8 in text",
        closed_with(frame(kText, request(13, 0, std::string(R"(,"x":")") + bad + "\"")), 1007));
  }
  add("6.4", "invalid UTF-8 split across fragments",
      closed_with(frame(kText, "{\"x\":\"\xce", false) + frame(kCont, "\xff\"}"), 1007));
  // 7 Close handling.
  add("7.1", "close without a code is answered with an empty close", closed_with(frame(kClose, ""), 1005));
  add("7.2", "close 1000 with a reason is echoed",
      closed_with(frame(kClose, close_payload(1000, "bye")), 1000));
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    add("7.3." + std::to_string(code), "valid close code " + std::to_string(code),
        closed_with(frame(kClose, close_payload(code)), code));
  }
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    add("7.4." + std::to_string(code), "invalid close code " + std::to_string(code),
        closed_with(frame(kClose, close_payload(code)), 1002));
  }
  add("7.5", "close of 1 byte", closed_with(frame(kClose, "x"), 1002));
  add("7.6", "close reason that is not UTF-8", closed_with(frame(kClose, close_payload(1000, "\xff")), 1007));
  add("7.7", "nothing is answered after a close", [](RawClient& c) {
    c.send(frame(kClose, close_payload(1000)) + frame(kText, request(14)));
    while (auto f = c.read()) {
      if (f->opcode == kText && f->payload.find(R"("i":14,)") != std::string::npos) return false;
      if (f->opcode == kClose) return !c.read(std::chrono::milliseconds(300)).has_value();
    }
    return false;
  });
  add("7.8", "unmasked client frame", [](RawClient& c) {
    std::string bytes = frame(kText, "{}");
    bytes[1] = static_cast<char>(bytes[1] & 0x7F);  // clear MASK, drop the key
    bytes.erase(2, 4);
    c.send(bytes);
    return c.close_code() == 1002;
  });
  // 9 Limits and volume.
  add("9.1", "message of 1 MiB - 1 byte is accepted",
      answered_with(frame(kText, request(15, (1 << 20) - 1 - request(15).size())), 15));
  add("9.2", "message over 1 MiB closes with 1009", closed_with(frame(kText, request(16, 1 << 20)), 1009));
  add("9.3", "fragments adding up to over 1 MiB close with 1009",
      closed_with(frame(kText, std::string(600000, ' '), false) + frame(kCont, std::string(600000, ' ')),
                  1009));
  add("9.4", "1,000 messages in one write, 1,000 answers", [](RawClient& c) {
    std::string bytes;
    for (int i = 0; i < 1000; ++i) bytes += frame(kText, request(1000 + i));
    c.send(bytes);
    return c.answered(R"("i":1999,)");
  });
  add("9.5", "ping flood, never read: closed with 1013 at the queue cap", [](RawClient& c) {
    std::string pings;
    for (int i = 0; i < 10000; ++i) pings += frame(kPing, "p");
    for (int i = 0; i < 100; ++i) c.send(pings);  // 1,000,000 pongs owed, none read
    return c.close_code(std::chrono::seconds(10)) == 1013;
  }, /*receive_buffer=*/4096);
  add("9.6", "a reader kept ~600 KB behind gets every answer, in order", [](RawClient& c) {
    int sent = 0, read = 0;
    auto send_requests = [&](int n) {
      std::string bytes;
      for (int i = 0; i < n; ++i) bytes += frame(kText, request(100000 + sent++));
      c.send(bytes);
    };
    auto read_answers = [&](int n) {
      for (int i = 0; i < n; ++i) {
        if (!c.answered(R"("i":)" + std::to_string(100000 + read++) + ",")) return false;
      }
      return true;
    };
    send_requests(8000);  // ~600 KB of answers owed before the first is read
    for (int round = 0; round < 50; ++round) {
      send_requests(1000);
      if (!read_answers(1000)) return false;
    }
    return read_answers(8000);
  }, /*receive_buffer=*/4096);
  // 10 Delivery split across TCP writes.
  add("10.1", "a frame written 1 byte at a time", [](RawClient& c) {
    c.send_split(frame(kText, request(17)), 1);
    return c.answered(R"("i":17,)");
  });
  add("10.2", "two frames split mid-header", [](RawClient& c) {
    const std::string bytes = frame(kText, request(18, 200)) + frame(kText, request(19));
    c.send_split(bytes, 7);
    return c.answered(R"("i":18,)") && c.answered(R"("i":19,)");
  });
  return all;
}

TEST(Conformance, EveryCasePasses) {
  ChatServerProcess server;
  int passed = 0, failed = 0;
  for (const Case& c : cases()) {
    RawClient client(server.port(), "/?role=user&name=raw", c.receive_buffer);
    ASSERT_TRUE(client.upgraded()) << c.id;
    const bool ok = c.run(client);
    std::printf("case %-8s %-58s %s\n", c.id.c_str(), c.what.c_str(), ok ? "OK" : "FAILED");
    (ok ? passed : failed)++;
    EXPECT_TRUE(ok) << "case " << c.id << ": " << c.what;
  }
  std::printf("conformance: %d passed, %d failed\n", passed, failed);
  // The server is still serving after every abuse above.
  RawClient after(server.port());
  ASSERT_TRUE(after.upgraded());
  after.send(frame(kText, request(99)));
  EXPECT_TRUE(after.answered(R"("i":99,)"));
}

}  // namespace
}  // namespace e2e
