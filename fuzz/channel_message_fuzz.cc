// Arbitrary bytes arriving from the adapter, as a broken or hostile node could publish them: on the
// node-to-node channel, a room, a shared topic with a bus listener, and a personal channel.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto bus = std::make_shared<superline::MemoryBus>();
  static fuzz::ChatNode node(bus);
  static auto conn = node.open(superline::Wire::kJson);
  static const uint64_t listener = node.server.core().subscribe_topic(
      "presence", [](const google::protobuf::Message&, std::string_view) {});
  static superline::MemoryAdapter peer(bus);  // another "node" on the same bus
  static const std::string channels[] = {"s2s", "r:lobby", "t:shared:presence", "c:" + conn->id(),
                                         "u:fuzzer"};
  (void)listener;
  if (size == 0) return 0;
  const std::string& channel = channels[data[0] % std::size(channels)];
  peer.publish(channel,
               std::make_shared<const std::string>(reinterpret_cast<const char*>(data + 1), size - 1));
  return 0;
}
