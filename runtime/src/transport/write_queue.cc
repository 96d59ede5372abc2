#include "write_queue.h"

namespace superline {

void WriteQueue::push(SharedFrame frame, const std::string& bytes, std::optional<ws::Opcode> opcode, bool owned) {
  Entry entry{std::move(frame), &bytes, 0, {}, 0};
  if (opcode) entry.header_size = static_cast<uint8_t>(ws::write_header(entry.header, *opcode, bytes.size()));
  size_t charge = entry.size() + kEntryOverhead;
  if (owned) charge += kOwnedOverhead + (bytes.capacity() > 15 ? bytes.capacity() : 0);  // past SSO
  entry.charge = static_cast<uint32_t>(charge);
  charged_ += charge;
  entries_.push_back(std::move(entry));
}

int WriteQueue::gather(iovec* iov, int max) const {
  int count = 0;
  size_t skip = offset_;
  auto add = [&](const void* data, size_t size) {
    if (skip >= size) {
      skip -= size;
      return;
    }
    iov[count].iov_base = const_cast<char*>(static_cast<const char*>(data) + skip);
    iov[count].iov_len = size - skip;
    skip = 0;
    ++count;
  };
  for (size_t i = head_; i < entries_.size() && count + 2 <= max; ++i) {
    add(entries_[i].header, entries_[i].header_size);
    add(entries_[i].bytes->data(), entries_[i].bytes->size());
  }
  return count;
}

void WriteQueue::advance(size_t written) {
  offset_ += written;
  while (head_ < entries_.size() && offset_ >= entries_[head_].size()) {
    offset_ -= entries_[head_].size();
    charged_ -= entries_[head_].charge;
    entries_[head_++].frame.reset();
  }
  if (empty()) {
    clear();
  } else {
    compact();
  }
}

// A queue that never empties (a reader kept a little behind) must not keep what it wrote: drop the
// written front once it is at least half the vector, so each entry moves O(1) times on average,
// and give back capacity the queue no longer needs.
void WriteQueue::compact() {
  if (head_ < 32 || head_ * 2 < entries_.size()) return;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(head_));
  head_ = 0;
  if (entries_.capacity() > 64 && entries_.capacity() > 4 * entries_.size()) entries_.shrink_to_fit();
}

void WriteQueue::drop_unstarted() {
  const size_t keep = head_ + (offset_ > 0 ? 1 : 0);
  for (size_t i = keep; i < entries_.size(); ++i) charged_ -= entries_[i].charge;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(keep), entries_.end());
}

void WriteQueue::clear() {
  entries_.clear();
  if (entries_.capacity() > 4) entries_.shrink_to_fit();  // small enough to keep: no malloc per frame
  head_ = 0;
  offset_ = 0;
  charged_ = 0;
}

}  // namespace superline
