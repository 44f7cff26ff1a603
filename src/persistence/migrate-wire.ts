// The shared memory between MigrateLink (the main thread) and its worker
// (migrate-worker.ts): a header of Int32 words and a data region. The main
// thread fills in a request, bumps REQ and waits in Atomics.wait; the worker,
// woken through Atomics.waitAsync, does the socket work, fills in the
// response and sets RES to the request's number. One request at a time.

/** Header words (Int32 indexes). */
export const W_REQ = 0; // number of the last request (main writes)
export const W_RES = 1; // number of the last request answered (worker writes)
export const W_READY = 2; // 1 once the worker listens
export const W_OP = 3;
export const W_CONN = 4; // connection id: request (WRITE, READ, SETDB, CLOSE), response (OPEN)
export const W_TIMEOUT = 5; // ms
export const W_LEN = 6; // bytes in the data region: request, then response
export const W_STATUS = 7;
export const W_ARG = 8; // OPEN: port in, last db out; SETDB: the db
export const W_ARG2 = 9; // OPEN: length of the host at the start of the data (the rest is ":port")
export const W_TYPE = 10; // READ: the reply's type byte
export const HEADER_BYTES = 64;

/**
 * The data region: a write bigger than this goes in several requests. 64 KiB
 * is the piece Redis writes MIGRATE's commands in, each within the timeout.
 */
export const DATA_BYTES = 64 * 1024;

export const OP_OPEN = 1;
export const OP_WRITE = 2;
export const OP_READ = 3;
export const OP_SETDB = 4;
export const OP_CLOSE = 5;

export const ST_OK = 0;
export const ST_TIMEOUT = 1;
export const ST_ERROR = 2;

/** Redis's MIGRATE_SOCKET_CACHE_ITEMS and MIGRATE_SOCKET_CACHE_TTL. */
export const CACHE_ITEMS = 64;
export const CACHE_TTL_MS = 10_000;
