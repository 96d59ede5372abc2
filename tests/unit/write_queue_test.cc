// A connection's write queue: order across partial writes, what it charges against the cap, and
// that a queue which never empties holds only what is still queued.
#include "write_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace superline {
namespace {

SharedFrame shared(std::string bytes) {
  auto frame = std::make_shared<EncodedFrame>();
  frame->json = std::move(bytes);
  return frame;
}

void push_text(WriteQueue& queue, const SharedFrame& frame) { queue.push(frame, frame->json, ws::kText, false); }

// Everything gather() offers, as one string.
std::string unwritten(const WriteQueue& queue) {
  iovec iov[64];
  const int n = queue.gather(iov, 64);
  std::string out;
  for (int i = 0; i < n; ++i) out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  return out;
}

TEST(WriteQueue, WritesFramesInOrderAcrossPartialWrites) {
  WriteQueue queue;
  auto raw = shared("HTTP/1.1 101\r\n\r\n");
  queue.push(raw, raw->json, std::nullopt, true);
  push_text(queue, shared("hello"));
  push_text(queue, shared("world"));
  const std::string all = unwritten(queue);
  EXPECT_EQ(all, std::string("HTTP/1.1 101\r\n\r\n") + "\x81\x05hello" + "\x81\x05world");
  for (size_t written = 0; written < all.size(); written += 3) {
    EXPECT_EQ(unwritten(queue), all.substr(written));
    queue.advance(std::min<size_t>(3, all.size() - written));
  }
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.charged_bytes(), 0u);
}

TEST(WriteQueue, ChargesBookkeepingAndOwnedFrames) {
  WriteQueue queue;
  auto payload = shared(std::string(1000, 'x'));
  push_text(queue, payload);
  EXPECT_EQ(queue.charged_bytes(), 4 + 1000 + WriteQueue::kEntryOverhead);
  auto pong = shared("");
  queue.push(pong, pong->json, ws::kPong, true);
  EXPECT_EQ(queue.charged_bytes(), 4 + 1000 + 2 + 2 * WriteQueue::kEntryOverhead + WriteQueue::kOwnedOverhead);
  // A million empty pongs are bounded by what they cost, not by their two wire bytes each.
  EXPECT_GT(WriteQueue::kEntryOverhead + WriteQueue::kOwnedOverhead, 100u);
}

TEST(WriteQueue, DropUnstartedKeepsTheFramePartlyWritten) {
  WriteQueue queue;
  push_text(queue, shared("first"));
  push_text(queue, shared("second"));
  queue.advance(3);
  queue.drop_unstarted();
  EXPECT_EQ(unwritten(queue), "irst");
  queue.advance(4);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.charged_bytes(), 0u);
}

// A reader kept a little behind: the queue never empties, yet holds only what is unwritten.
TEST(WriteQueue, ANeverEmptyQueueHoldsOnlyWhatIsQueued) {
  WriteQueue queue;
  auto frame = shared(std::string(60, 'f'));  // 62 bytes on the wire
  for (int i = 0; i < 1000; ++i) push_text(queue, frame);
  size_t most_held = 0, largest_capacity = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    push_text(queue, frame);
    queue.advance(62);
    most_held = std::max(most_held, queue.held_entries());
    largest_capacity = std::max(largest_capacity, queue.capacity());
  }
  EXPECT_FALSE(queue.empty());
  EXPECT_LE(most_held, 2000u);          // without compaction: 1,001,000
  EXPECT_LE(largest_capacity, 4096u);
  EXPECT_EQ(queue.charged_bytes(), 1000 * (62 + WriteQueue::kEntryOverhead));
}

}  // namespace
}  // namespace superline
