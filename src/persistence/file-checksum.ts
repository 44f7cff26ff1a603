// A dump's CRC-64 computed on a second core while the main thread loads it.
// The checksum is a quarter of a big load's time on one core (2 GiB of
// tensors: ~1 s of ~4 s, most of the rest the kernel filling fresh pages),
// and it needs nothing from the load but the file's bytes: a worker thread
// reads the file again through its own descriptor (the page cache serves
// the second read) and works out the CRC of everything before the trailer.
// Only where it can win: a build with the worker's .js, more than one core
// this process may run on, a dump big enough to pay for a thread's start.

import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Crc64 } from './crc64.js';

/** Below this a thread's start (~30 ms) costs more than the CRC it saves. */
const MIN_BYTES = 64 * 1024 * 1024;
const CHUNK = 1024 * 1024;

/** Which file: the worker checks it opened the one the loader has open. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
}

/** The CRC-64 of bytes [0, end) of the file open at `fd`, read a chunk at a time. */
export function fileCrc64(fd: number, end: number): bigint {
  const buf = Buffer.allocUnsafeSlow(CHUNK);
  const crc = new Crc64();
  for (let at = 0; at < end;) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, end - at), at);
    if (n === 0) throw new Error(`the file ends at offset ${at}, before ${end}`);
    crc.update(buf, 0, n);
    at += n;
  }
  return crc.digest();
}

/** The CRC-64 of bytes [0, end) of `path`, which must be the file `expect` names. */
export function pathCrc64(path: string, end: number, expect: FileIdentity): bigint {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.dev !== expect.dev || st.ino !== expect.ino || st.size !== expect.size) {
      throw new Error(`${path} is not the file being loaded (replaced while loading)`);
    }
    return fileCrc64(fd, end);
  } finally {
    closeSync(fd);
  }
}

export class FileChecksum {
  /** The CRC once the worker has posted it; an Error when it could not. */
  private outcome: bigint | Error | null = null;
  /** Settles when the outcome is known. */
  readonly done: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.done = new Promise((resolve) => {
      worker.once('message', (m: { crc?: bigint; error?: string }) => {
        this.outcome = m.crc ?? new Error(m.error ?? 'no result');
        resolve();
      });
      worker.once('error', (e) => { this.outcome ??= e; resolve(); });
      worker.once('exit', () => { this.outcome ??= new Error('the checksum thread ended without a result'); resolve(); });
    });
  }

  /**
   * A thread working out the CRC of [0, end) of the file `fd` has open at
   * `path`, or null where one would not help (see the head of this file).
   */
  static start(path: string, fd: number, end: number): FileChecksum | null {
    if (end < MIN_BYTES || availableParallelism() < 2) return null;
    // Only the build has the worker's .js (an in-process test runs the .ts sources).
    const file = new URL('./file-crc-worker.js', import.meta.url);
    if (!existsSync(file)) return null;
    try {
      const { dev, ino, size } = fstatSync(fd);
      return new FileChecksum(new Worker(file, { workerData: { path, end, dev, ino, size } }));
    } catch {
      return null;
    }
  }

  /** The CRC, an Error when the thread could not work it out, null while it runs. */
  get result(): bigint | Error | null {
    return this.outcome;
  }

  close(): void {
    void this.worker.terminate();
  }
}
