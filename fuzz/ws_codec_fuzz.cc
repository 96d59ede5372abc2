// The WebSocket frame reader on arbitrary client bytes, split into reads at arbitrary points: it must
// deliver only complete, size-limited, valid-UTF-8 text messages, or fail with a close code; what
// it holds of incomplete messages stays within its shared budget (plus its allowance) and is all
// given back when it goes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ws_codec.h"

namespace {

struct CheckingSink : superline::ws::FrameSink {
  void on_message(std::string_view data, bool) override {
    if (data.size() > kMax) std::abort();
  }
  void on_ping(std::string_view payload) override {
    if (payload.size() > 125) std::abort();
  }
  void on_close(uint16_t code, std::string_view) override {
    if (code != superline::ws::kCloseNoStatus && !superline::ws::valid_close_code(code)) std::abort();
  }
  static constexpr size_t kMax = 64 * 1024;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;  // the first byte picks how the stream is cut into reads
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  static superline::ws::BufferBudget budget(16 * 1024);  // small, so inputs reach the refusal
  {
    superline::ws::FrameReader reader(CheckingSink::kMax, &budget);
    CheckingSink sink;
    for (size_t at = 0; at < bytes.size(); at += chunk) {
      std::string piece = bytes.substr(at, chunk);
      const uint16_t failure = reader.consume(piece.data(), piece.size(), sink);
      if (failure != 0 && failure != superline::ws::kCloseProtocolError &&
          failure != superline::ws::kCloseInvalidPayload && failure != superline::ws::kCloseMessageTooBig &&
          failure != superline::ws::kCloseTryAgainLater) {
        std::abort();
      }
      if (budget.used() != reader.charged()) std::abort();
      if (reader.charged() > 16 * 1024 + superline::ws::FrameReader::kAllowanceBytes) std::abort();
    }
  }
  if (budget.used() != 0) std::abort();
  return 0;
}
