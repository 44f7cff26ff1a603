// The store's errors: a write thrown out of the middle of a command by one of
// these leaves the store consistent, and dispatch turns it into the reply.

/** No memory can be had for a write within maxmemory (and nothing may be evicted). */
export class OutOfMemoryError extends Error {
  constructor() {
    super("OOM command not allowed when used memory > 'maxmemory'.");
  }
}

/** A key too long to fit with its header in the largest chunk. */
export class KeyTooLongError extends Error {
  constructor(max: number) {
    super(`ERR key is too long (kvslab keys are at most ${max} bytes)`);
  }
}
