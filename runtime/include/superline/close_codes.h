// The WebSocket close codes superline's server sends and its clients act on.
// Thread-safety: constants only.
#pragma once

#include <cstdint>

namespace superline {

// WebSocket close codes the runtime uses.
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseGoingAway = 1001;  // graceful shutdown
inline constexpr uint16_t kClosePolicy = 1008;
inline constexpr uint16_t kCloseTooBig = 1009;         // oversize message
inline constexpr uint16_t kCloseTryAgainLater = 1013;  // slow consumer over its queue cap
// 4000-4099: the server asks the client not to reconnect (a kick, a ban, a session taken over);
// superline's clients honour it, and reconnect after every other close. Applications may use the
// whole range with reasons of their own; kCloseDoNotReconnect is the one the runtime sends.
inline constexpr uint16_t kCloseDoNotReconnectFirst = 4000;
inline constexpr uint16_t kCloseDoNotReconnectLast = 4099;
inline constexpr uint16_t kCloseDoNotReconnect = 4000;
constexpr bool means_do_not_reconnect(uint16_t code) {
  return code >= kCloseDoNotReconnectFirst && code <= kCloseDoNotReconnectLast;
}

}  // namespace superline
