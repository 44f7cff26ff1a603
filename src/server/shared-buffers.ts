// The buffers every client connection shares, owned by the server.
//
// The read buffer: every socket reads into it (net.Socket's `onread`
// option, see socket.ts) and the request reader is done with the bytes, or
// has copied what it keeps, before the read callback returns. 64 KiB: 16 KiB
// reads (Redis's PROTO_IOBUF_LEN) answered a PING during a bulk load in
// 0.8 ms rather than 3, but cut pipelined SETs of 4 KiB values to half their
// rate (more reads, each cutting a value).
//
// The reply buffer: a client writes replies only while it handles its own
// reads, and flushes them before it returns: once the kernel has taken them
// the buffer is free for the next client. A client whose write is left
// pending keeps the buffer it wrote from (the socket holds it) and a new one
// is shared from then on. So an idle client holds no reply buffer (Redis
// keeps 16 KB each), and a big reply does not leave one behind.

/** The shared reply buffer's first size, and what it goes back to after a very big reply. */
export const INITIAL_REPLY_BUFFER = 16 * 1024;
/** A shared reply buffer grown past this goes back to the first size once its reply is sent. */
const KEEP_REPLY_BUFFER = 128 * 1024;
const READ_BUFFER_SIZE = 64 * 1024;
/** Keys of a read whose buckets are read ahead (a pipeline of 16 needs 16; more stop paying off as the cache fills). */
const KEY_HINTS = 64;

export class SharedBuffers {
  /** Its own ArrayBuffer, so that views of it can be recognised. */
  readonly read = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
  reply: Buffer = Buffer.allocUnsafe(INITIAL_REPLY_BUFFER);
  /** Where the keys of a pipelined read are (scanKeyHints), for the store to read their buckets together. */
  readonly keyStarts = new Uint32Array(KEY_HINTS);
  readonly keyEnds = new Uint32Array(KEY_HINTS);
  /** When the reply buffer last grew past its first size. */
  private grownAt = 0;

  /** The reply buffer was handed to a socket with `buf`'s bytes still to send, or grew: take the one to share next. */
  settleReply(buf: Buffer, pending: boolean): void {
    if (pending) this.reply = Buffer.allocUnsafe(INITIAL_REPLY_BUFFER);
    else this.reply = buf.length > KEEP_REPLY_BUFFER ? Buffer.allocUnsafe(INITIAL_REPLY_BUFFER) : buf;
    if (this.reply.length > INITIAL_REPLY_BUFFER) this.grownAt = Date.now();
  }

  /**
   * Gives back a reply buffer grown for big replies (between reads, when no
   * reply is in it): when memory is short, or `idleMs` after it was last
   * needed. Returns the bytes given back.
   */
  shrinkReply(idleMs = 0): number {
    const n = this.reply.length - INITIAL_REPLY_BUFFER;
    if (n <= 0 || Date.now() - this.grownAt < idleMs) return 0;
    this.reply = Buffer.allocUnsafe(INITIAL_REPLY_BUFFER);
    return n;
  }
}
