// The thread behind FileChecksum (file-checksum.ts): the CRC-64 of the first
// `end` bytes of a dump, read through its own descriptor while the main
// thread loads the same file. It checks that it opened the file the loader
// has (same device, inode and size), posts the CRC or the error, and ends.

import { parentPort, workerData } from 'node:worker_threads';
import { pathCrc64, type FileIdentity } from './file-checksum.js';

const job = workerData as FileIdentity & { path: string; end: number };
try {
  parentPort!.postMessage({ crc: pathCrc64(job.path, job.end, job) });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
