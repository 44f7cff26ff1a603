// kvslab-cluster and redis-cli --cluster as the cluster tests run them (the
// exit status and both outputs, never a throw), and a kvslab started as a
// cluster node in a directory of its own.

import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, ROOT, startKvslabOn, startRedis, type RunningServer } from './servers.js';

export interface ToolRun { code: number; out: string; err: string }

async function run(file: string, args: string[]): Promise<ToolRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, { encoding: 'utf8', timeout: 120_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

/** bin/kvslab-cluster with these arguments. */
export function clusterTool(...args: string[]): Promise<ToolRun> {
  return run(join(ROOT, 'bin', 'kvslab-cluster'), args);
}

/** redis-cli --cluster check against a node. */
export function redisCliCheck(port: number): Promise<ToolRun> {
  return run('redis-cli', ['--cluster', 'check', `127.0.0.1:${port}`]);
}

/**
 * A kvslab cluster node on a free port. Another test file may take the port
 * between freePort and the bind (the cluster tests start many nodes): then
 * another port, a few times.
 */
export async function clusterNode(extra: string[] = []): Promise<RunningServer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startKvslabOn(await freePort(), ['--cluster-enabled', 'yes', '--dir', mkdtempSync(join(tmpdir(), 'kvslab-cluster-node-')), ...extra]);
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/.test((e as Error).message)) throw e;
    }
  }
}

export const addr = (s: RunningServer): string => `127.0.0.1:${s.port}`;

/** `n` Debian redis-server nodes made one cluster by redis-cli --cluster create, once every node reports cluster_state:ok. */
export async function redisCluster(n: number): Promise<RunningServer[]> {
  const nodes = await Promise.all(Array.from({ length: n }, () => startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'])));
  await promisify(execFile)('redis-cli', ['--cluster', 'create', ...nodes.map(addr), '--cluster-yes'], { encoding: 'utf8' });
  const end = Date.now() + 20_000;
  for (const s of nodes) {
    const c = s.client();
    while (!String(await c.call('CLUSTER', 'INFO')).includes('cluster_state:ok') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  }
  return nodes;
}
