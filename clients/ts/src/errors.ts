// The one error type a superline client rejects with: the wire's code ("FORBIDDEN", "NOT_FOUND",
// "VALIDATION", ... or a handler's own), its message, and its data when the server sent any.

export class SuperlineError extends Error {
  readonly code: string;
  readonly data?: unknown;

  constructor(code: string, message: string, data?: unknown) {
    super(message);
    this.name = "SuperlineError";
    this.code = code;
    if (data !== undefined) this.data = data;
  }
}

// The codes the client itself produces; the server may send any other string.
export const ErrorCode = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  TIMEOUT: "TIMEOUT",
  VALIDATION: "VALIDATION",
  DISCONNECTED: "DISCONNECTED",
  INTERNAL: "INTERNAL",
  BUSY: "BUSY",
} as const;
