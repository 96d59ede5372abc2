// Arbitrary superline.pb.v1 messages through the whole inbound path of a chat server.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "superline/internal/log.h"
#include "superline/internal/transport_port.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::ChatNode node;
  static auto conn = node.open(superline::Wire::kProtobuf);
  static superline::LogThrottle throttle;
  // As the transport runs it: protobuf's lines go to the server's log, throttled.
  const superline::LogScope scope(node.server.core().options().log, throttle, conn->id());
  superline::internal::TransportPort(node.server.core()).receive(conn, std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
