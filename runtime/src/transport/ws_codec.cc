#include "ws_codec.h"

#include <algorithm>
// Beast's detail helpers are used here and nowhere else: if a Boost release moves them, this file
// alone changes.
#include <boost/beast/websocket/detail/hybi13.hpp>
#include <boost/beast/websocket/detail/utf8_checker.hpp>
#include <cstring>

namespace superline::ws {
namespace {

constexpr size_t kMaxControlPayload = 125;

bool valid_utf8(const char* data, size_t size) {
  boost::beast::websocket::detail::utf8_checker checker;
  return checker.write(reinterpret_cast<const uint8_t*>(data), size) && checker.finish();
}

// XORs the payload with its 4-byte masking key, eight bytes at a time.
void unmask(char* data, size_t size, const uint8_t* key) {
  uint8_t key8[8];
  for (int i = 0; i < 8; ++i) key8[i] = key[i & 3];
  uint64_t k;
  std::memcpy(&k, key8, 8);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t v;
    std::memcpy(&v, data + i, 8);
    v ^= k;
    std::memcpy(data + i, &v, 8);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ key[i & 3]);
}

// Heap bytes a string holds (none while its text fits the small-string buffer).
size_t heap_bytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() : 0; }

}  // namespace

std::string accept_key(std::string_view client_key) {
  boost::beast::websocket::detail::sec_ws_accept_type accept;
  boost::beast::websocket::detail::make_sec_ws_accept(accept, boost::beast::string_view(client_key.data(), client_key.size()));
  return std::string(accept.data(), accept.size());
}

bool BufferBudget::take(size_t bytes) {
  size_t used = used_.load(std::memory_order_relaxed);
  do {
    if (used + bytes > limit_) return false;
  } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

size_t write_header(uint8_t (&out)[kMaxHeaderBytes], Opcode opcode, uint64_t payload_size) {
  out[0] = static_cast<uint8_t>(0x80 | opcode);
  if (payload_size < 126) {
    out[1] = static_cast<uint8_t>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(payload_size >> 8);
    out[3] = static_cast<uint8_t>(payload_size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(payload_size >> (56 - 8 * i));
  return 10;
}

std::string client_frame(uint8_t opcode, std::string_view payload, uint32_t key, bool fin, uint8_t rsv) {
  std::string out(1, static_cast<char>((fin ? 0x80 : 0) | rsv | opcode));
  if (payload.size() < 126) {
    out += static_cast<char>(0x80 | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((uint64_t{payload.size()} >> (8 * i)) & 0xFF);
  }
  const uint8_t mask[4] = {static_cast<uint8_t>(key >> 24), static_cast<uint8_t>(key >> 16),
                           static_cast<uint8_t>(key >> 8), static_cast<uint8_t>(key)};
  out.append(reinterpret_cast<const char*>(mask), 4);
  const size_t start = out.size();
  out += payload;
  if (key != 0) unmask(out.data() + start, payload.size(), mask);  // XOR both ways
  return out;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  if (reason.size() > kMaxControlPayload - 2) {
    size_t cut = kMaxControlPayload - 2;
    while (cut > 0 && (static_cast<uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;  // not mid-character
    reason = reason.substr(0, cut);
  }
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  out += reason;
  return out;
}

bool valid_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

uint16_t FrameReader::consume(char* data, size_t size, FrameSink& sink) {
  if (done_) return failure_;
  if (pending_.empty()) {
    const size_t used = parse(data, size, sink);
    if (!done_ && used < size) append(pending_, data + used, size - used, incomplete_frame_);
  } else if (append(pending_, data, size, incomplete_frame_)) {
    pending_.erase(0, parse(pending_.data(), pending_.size(), sink));
  }
  if (done_) {
    pending_.clear();
    message_.clear();
  }
  if (pending_.empty() && pending_.capacity() > 64) std::string().swap(pending_);  // idle: hold nothing
  if (message_.empty() && message_.capacity() > 64) std::string().swap(message_);
  recharge();
  return failure_;
}

bool FrameReader::append(std::string& buffer, const char* data, size_t size, size_t final_size) {
  const size_t needed = buffer.size() + size;
  if (needed > buffer.capacity()) {
    // Doubling, as data arrives (a header alone reserves nothing), but never past the size the
    // frame said it has, so a message is not held in twice the memory it needs.
    size_t capacity = std::max(needed, 2 * buffer.capacity());
    if (final_size >= needed) capacity = std::min(capacity, final_size);
    if (budget_ != nullptr) {
      const std::string& other = &buffer == &pending_ ? message_ : pending_;
      const size_t after = capacity + heap_bytes(other);
      if (after > charged_) {
        if (after <= kAllowanceBytes) {
          budget_->force(after - charged_);
        } else if (!budget_->take(after - charged_)) {
          failure_ = kCloseTryAgainLater;
          done_ = true;
          return false;
        }
        charged_ = after;
      }
    }
    // A fresh string gets exactly the capacity asked for (growing one in place may double it).
    std::string grown;
    grown.reserve(capacity);
    grown.append(buffer);
    buffer.swap(grown);
  }
  buffer.append(data, size);
  return true;
}

void FrameReader::recharge() {
  if (budget_ == nullptr) return;
  const size_t now = heap_bytes(pending_) + heap_bytes(message_);
  if (now < charged_) budget_->give_back(charged_ - now);
  if (now > charged_) budget_->force(now - charged_);
  charged_ = now;
}

void FrameReader::release() {
  if (budget_ != nullptr) budget_->give_back(charged_);
  charged_ = 0;
}

size_t FrameReader::parse(char* data, size_t size, FrameSink& sink) {
  auto fail = [this](uint16_t code) {
    failure_ = code;
    done_ = true;
  };
  size_t pos = 0;
  incomplete_frame_ = 0;
  while (!done_ && size - pos >= 2) {
    const auto* p = reinterpret_cast<const uint8_t*>(data + pos);
    const bool fin = (p[0] & 0x80) != 0;
    const uint8_t opcode = p[0] & 0x0F;
    const bool control = (opcode & 0x8) != 0;
    uint64_t length = p[1] & 0x7F;
    size_t header = 2;
    if ((p[0] & 0x70) != 0 || (p[1] & 0x80) == 0) {  // no extension is negotiated; clients must mask
      fail(kCloseProtocolError);
      break;
    }
    if (control
            ? (opcode != kClose && opcode != kPing && opcode != kPong) || !fin || length > kMaxControlPayload
            : opcode > kBinary || (opcode == kContinuation) != in_message_) {
      fail(kCloseProtocolError);
      break;
    }
    if (length == 126) {
      if (size - pos < 4) break;
      length = (uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (length == 127) {
      if (size - pos < 10) break;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
      if (length >> 63) {
        fail(kCloseProtocolError);
        break;
      }
      header = 10;
    }
    // Refused as soon as the header says so: an oversize message is never buffered.
    if (!control && length > max_message_bytes_ - (in_message_ ? message_.size() : 0)) {
      fail(kCloseMessageTooBig);
      break;
    }
    header += 4;  // the masking key
    if (size - pos < header || size - pos - header < length) {
      incomplete_frame_ = header + length;
      break;
    }
    char* payload = data + pos + header;
    unmask(payload, length, p + header - 4);
    pos += header + length;
    if (!deliver(opcode, fin, payload, length, sink)) break;
  }
  return pos;
}

bool FrameReader::deliver(uint8_t opcode, bool fin, char* payload, size_t size, FrameSink& sink) {
  auto fail = [this](uint16_t code) {
    failure_ = code;
    done_ = true;
    return false;
  };
  switch (opcode) {
    case kPing:
      sink.on_ping(std::string_view(payload, size));
      return true;
    case kPong:
      return true;
    case kClose: {
      if (size == 1) return fail(kCloseProtocolError);
      uint16_t code = kCloseNoStatus;
      std::string_view reason;
      if (size >= 2) {
        code =
            static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]));
        if (!valid_close_code(code)) return fail(kCloseProtocolError);
        reason = std::string_view(payload + 2, size - 2);
        if (!valid_utf8(reason.data(), reason.size())) return fail(kCloseInvalidPayload);
      }
      done_ = true;
      sink.on_close(code, reason);
      return false;
    }
    default:
      break;
  }
  if (opcode != kContinuation) message_opcode_ = opcode;
  const bool text = message_opcode_ == kText;
  if (fin && !in_message_) {  // the common case: one frame, delivered from the read buffer itself
    if (text && !valid_utf8(payload, size)) return fail(kCloseInvalidPayload);
    sink.on_message(std::string_view(payload, size), !text);
    return true;
  }
  if (!append(message_, payload, size, /*final_size=*/0)) return false;
  in_message_ = !fin;
  if (fin) {
    std::string message = std::move(message_);
    message_ = std::string();
    if (text && !valid_utf8(message.data(), message.size())) return fail(kCloseInvalidPayload);
    sink.on_message(message, !text);
  }
  return true;
}

}  // namespace superline::ws
