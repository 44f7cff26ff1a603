// Reading client sockets without a Buffer per read: every connection reads
// into one shared buffer (net.Socket's `onread` option, the server's
// SharedBuffers.read), and the callback must be done with the bytes before it
// returns. The request reader copies whatever it keeps of a read (an
// unfinished frame), so that holds.
//
// Accepted sockets cannot be given `onread`, so the server accepts with
// pauseOnConnect and hands the connection's handle to a new Socket created
// with it. That relies on net.Socket's `_handle`; where it is missing (a
// future Node), the ordinary 'data' path is used instead.

import net from 'node:net';

export type ChunkHandler = (chunk: Buffer, shared: boolean) => void;

interface HandleCarrier { _handle: unknown }

/**
 * Takes over a socket accepted paused and starts reading. `onChunk` gets each
 * read; `shared` tells whether the bytes live in `readBuffer` (valid only
 * during the call) or in a buffer of their own.
 */
export function adoptSocket(accepted: net.Socket, readBuffer: Buffer, onChunk: ChunkHandler): net.Socket {
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
        buffer: readBuffer,
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
