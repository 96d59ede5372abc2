// Close codes 4000-4099 mean "do not reconnect" (a kick, a ban): the server's
// superline/close_codes.h. Every other close, 1001 and 1013 included, is followed by a reconnect.

export const CLOSE_DO_NOT_RECONNECT_FIRST = 4000;
export const CLOSE_DO_NOT_RECONNECT_LAST = 4099;

export function isDoNotReconnect(code: number): boolean {
  return code >= CLOSE_DO_NOT_RECONNECT_FIRST && code <= CLOSE_DO_NOT_RECONNECT_LAST;
}
