// A full garbage collection on request (MEMORY PURGE): memory the store let
// go of (old index arrays after a rehash, dropped pages and large blocks)
// lives in ArrayBuffers that V8 frees only when it collects them.

import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | null | undefined;

/** Runs a full collection; false when the runtime does not allow it. */
export function fullGc(): boolean {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  if (collect === null) return false;
  collect();
  return true;
}
