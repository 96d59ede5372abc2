// One connection's outbound bytes, in the order they must leave: WebSocket frames (a 2-10 byte
// header built for this connection, then payload bytes shared with every other queue the frame is
// in) and raw bytes (the HTTP 101). It counts what it holds as memory, not only as wire bytes: each
// entry's bookkeeping, and the allocation of frames it owns alone (control frames, the 101), so a
// flood of tiny frames is bounded by the same cap as a few large ones.
// Thread-safety: none; a WriteQueue belongs to one connection's strand.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "superline/frame.h"
#include "ws_codec.h"

namespace superline {

class WriteQueue {
 public:
  // Queues `bytes` as one WebSocket frame with `opcode`, or raw (no header) without one. `bytes`
  // must live in `frame`. `owned` says the frame was allocated for this queue alone.
  void push(SharedFrame frame, const std::string& bytes, std::optional<ws::Opcode> opcode, bool owned);

  // Fills `iov` with the unwritten bytes, in order, up to `max` entries; returns how many.
  int gather(iovec* iov, int max) const;
  // `written` bytes of the front left through the socket.
  void advance(size_t written);
  // Drops every frame not yet started; a frame partly written stays, or the stream would be cut
  // mid-frame.
  void drop_unstarted();
  void clear();

  bool empty() const { return head_ == entries_.size(); }
  // What the queue holds, in bytes of memory: unwritten wire bytes plus bookkeeping.
  size_t charged_bytes() const { return charged_; }
  // Entries held, written ones not yet compacted away included (for tests of the compaction).
  size_t held_entries() const { return entries_.size(); }
  size_t capacity() const { return entries_.capacity(); }

  // Memory charged for one entry beyond its wire bytes, and for a frame only this queue holds.
  static constexpr size_t kEntryOverhead = 48;
  static constexpr size_t kOwnedOverhead = sizeof(EncodedFrame) + 32;  // + the shared_ptr's block

 private:
  struct Entry {
    SharedFrame frame;
    const std::string* bytes;
    uint32_t charge;  // what this entry adds to charged_
    uint8_t header[ws::kMaxHeaderBytes];
    uint8_t header_size;
    size_t size() const { return header_size + bytes->size(); }
  };
  static_assert(sizeof(Entry) <= kEntryOverhead, "kEntryOverhead must cover an Entry");

  void compact();

  // Unwritten entries are [head_, size); offset_ bytes of entries_[head_] are already written. A
  // vector rather than a deque: a deque allocates ~600 bytes even when empty, for every connection.
  std::vector<Entry> entries_;
  size_t head_ = 0;
  size_t offset_ = 0;
  size_t charged_ = 0;
};

}  // namespace superline
