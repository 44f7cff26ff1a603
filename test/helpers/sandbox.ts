// Every test runs in a directory of its own (vitest setupFiles): a server a
// test starts without --dir keeps its dump.rdb there, so that no test loads
// a dump another test (or a developer's `make run` in the repository) left
// behind. The directories are left in the system's temp dir: a server still
// stopping may write its final dump into one after its test ended.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach } from 'vitest';

const fresh = () => process.chdir(mkdtempSync(join(tmpdir(), 'kvslab-test-')));

fresh();
beforeEach(fresh);
