// The buffers every client connection shares, owned by the server.
//
// The read buffer: every socket reads into it (net.Socket's `onread`
// option, see socket.ts) and the request reader is done with the bytes, or
// has copied what it keeps, before the read callback returns. 64 KiB: 16 KiB
// reads (Redis's PROTO_IOBUF_LEN) answered a PING during a bulk load in
// 0.8 ms rather than 3, but cut pipelined SETs of 4 KiB values to half their
// rate (more reads, each cutting a value).
//
// The reply buffer: clients build their replies in it, one after another,
// each in the room the one before it left, and they are written together
// once every read the event loop had ready is handled (Redis's
// handleClientsWithPendingWrites in beforeSleep). Written at once, each write
// woke the client program on the other core: with 50 clients at pipeline 16
// that wake-up (the kernel's _raw_spin_unlock_irqrestore under write) was
// 19% of the server's time in `perf`, 3% in Redis's. Once the kernel has
// taken every write the buffer is reused from its start; a write the kernel
// left pending keeps the buffer (the socket holds a view of it) and a new one
// is used from then on. An idle client holds no reply buffer (Redis keeps
// 16 KB each). A client whose replies outgrow their room moves them to a
// buffer of its own: the spare, kept from the last such client.

/** The shared reply buffer's size. */
const REPLY_BUFFER = 64 * 1024;
/** A client starts building replies in the shared buffer only if this much of it is left (else the queued writes go first). */
const MIN_REPLY_ROOM = 16 * 1024;
/** A grown reply buffer up to this size is kept as the spare for the next client whose replies outgrow their room. */
const KEEP_SPARE = 128 * 1024;
const READ_BUFFER_SIZE = 64 * 1024;
/** Keys of a read whose buckets are read ahead (a pipeline of 16 needs 16; more stop paying off as the cache fills). */
const KEY_HINTS = 64;

export class SharedBuffers {
  /** Its own ArrayBuffer, so that views of it can be recognised. */
  readonly read = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
  /** read's memory, for the request reader to tell its views apart (a Buffer's .buffer is a call into the runtime). */
  readonly readMemory: ArrayBufferLike = this.read.buffer;
  /** Where the keys of a pipelined read are (scanKeyHints), for the store to read their buckets together. */
  readonly keyStarts = new Uint32Array(KEY_HINTS);
  readonly keyEnds = new Uint32Array(KEY_HINTS);
  reply: Buffer = Buffer.allocUnsafe(REPLY_BUFFER);
  /** reply[0, replyUsed) holds replies queued to be written. */
  private replyUsed = 0;
  /** A socket holds a view of the reply buffer (its write was left pending): it is not reused. */
  private replyHeld = false;
  /** A grown reply buffer no client uses now, or null; counted as client memory while kept. */
  spare: Buffer | null = null;

  /** The free part of the reply buffer, for one client's replies; null when too little is left (write the queued ones first). */
  replyRoom(): Buffer | null {
    if (this.reply.length - this.replyUsed < MIN_REPLY_ROOM) return null;
    return this.reply.subarray(this.replyUsed);
  }

  /** The client given the room has queued `n` bytes at its start. */
  claimReply(n: number): void {
    this.replyUsed += n;
  }

  /** A socket was left holding a view of the reply buffer. */
  holdReply(): void {
    this.replyHeld = true;
  }

  /** Every queued reply is written: the buffer is reused from its start (or replaced, if a socket holds part of it). */
  resetReply(): void {
    if (this.replyHeld) this.reply = Buffer.allocUnsafe(REPLY_BUFFER);
    this.replyHeld = false;
    this.replyUsed = 0;
  }

  /** The spare if it holds `n` bytes (it is then the caller's), else null. */
  takeSpare(n: number): Buffer | null {
    const b = this.spare;
    if (b === null || b.length < n) return null;
    this.spare = null;
    return b;
  }

  /** A grown reply buffer, written and free: kept as the spare if it is not too big and bigger than the one kept. */
  giveSpare(b: Buffer): void {
    if (b.length >= 2 * MIN_REPLY_ROOM && b.length <= KEEP_SPARE && (this.spare === null || this.spare.length < b.length)) this.spare = b;
  }

  /** Drops the spare (memory is short, or it was not needed for a while); returns its bytes. */
  dropSpare(idleMs = 0): number {
    const n = this.spare === null ? 0 : this.spare.length;
    if (n === 0 || Date.now() - this.spareAt < idleMs) return 0;
    this.spare = null;
    return n;
  }

  /** When a client last grew its replies past their room. */
  spareAt = 0;

  /** Bytes held for replies: the shared buffer and the spare. */
  get replyBytes(): number {
    return this.reply.length + (this.spare === null ? 0 : this.spare.length);
  }
}
