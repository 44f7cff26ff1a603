// Reading client sockets without a Buffer per read: every connection reads
// into one shared buffer (net.Socket's `onread` option), and the callback
// must be done with the bytes before it returns. The request reader copies
// whatever it keeps of a read (an unfinished frame), so that holds.
//
// Accepted sockets cannot be given `onread`, so the server accepts with
// pauseOnConnect and hands the connection's handle to a new Socket created
// with it. That relies on net.Socket's `_handle`; where it is missing (a
// future Node), the ordinary 'data' path is used instead.

import net from 'node:net';

/**
 * The buffer every socket reads into; its own ArrayBuffer, so views of it can
 * be recognised. 64 KiB: 16 KiB reads (Redis's PROTO_IOBUF_LEN) answered a
 * PING during a bulk load in 0.8 ms rather than 3, but cut pipelined SETs of
 * 4 KiB values to half their rate (more reads, each cutting a value).
 */
export const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

export type ChunkHandler = (chunk: Buffer, shared: boolean) => void;

interface HandleCarrier { _handle: unknown }

/**
 * Takes over a socket accepted paused and starts reading. `onChunk` gets each
 * read; `shared` tells whether the bytes live in READ_BUFFER (valid only
 * during the call) or in a buffer of their own.
 */
export function adoptSocket(accepted: net.Socket, onChunk: ChunkHandler): net.Socket {
  const carrier = accepted as unknown as HandleCarrier;
  const handle = carrier._handle;
  // A TLS socket's handle is its TLS layer, which must stay with the TLSSocket: it reads the ordinary way.
  if (handle && typeof handle === 'object' && !(accepted as { encrypted?: boolean }).encrypted) {
    // The old Socket object must not close the handle it no longer owns.
    carrier._handle = null;
    const socket = new net.Socket({
      handle,
      readable: true,
      writable: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array) => {
          onChunk((buf as Buffer).subarray(0, n), true);
        },
      },
    } as net.SocketConstructorOpts & { handle: unknown });
    socket.resume();
    return socket;
  }
  accepted.on('data', (chunk: Buffer) => onChunk(chunk, false));
  accepted.resume();
  return accepted;
}
