// Files replaced whole (the dump's directory after SAVE's rename, the
// cluster's node file, CONFIG REWRITE, ACL SAVE): written to a temporary
// file in the same directory, fsynced, renamed over the old one, and the
// directory fsynced so that the rename itself survives a crash. A crash
// leaves the old file or the new one, never a mix.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The renames in `dir` on disk too (Redis's fsyncFileDir). Throws when the directory cannot be synced. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `data` (see the top). Throws when it cannot be written; the old file is then untouched. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // The new file is in place; some file systems refuse fsync on a directory.
  try { syncDir(dirname(path)); } catch { /* the rename stands */ }
}
