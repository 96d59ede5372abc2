// super-line's reconnect delay: raw = min(maxMs, baseMs * factor^attempt), then a uniform pick in
// [raw/2, raw] ("full jitter" over the upper half). attempt starts at 0 and is reset by every open.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  factor: number;
}

export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const raw = Math.min(options.maxMs, options.baseMs * Math.pow(options.factor, attempt));
  return raw / 2 + random() * (raw / 2);
}
