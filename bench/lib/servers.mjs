// Starting the two servers under test on free loopback ports, pinned to the
// server core, and reading their memory from /proc.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { ROOT, pinArgs } from './machine.mjs';

/**
 * @typedef {object} RunningServer
 * @property {'kvslab'|'redis'} id
 * @property {string} label       Name shown in tables.
 * @property {number} port
 * @property {number} pid
 * @property {() => string} output Everything the process printed so far.
 * @property {() => boolean} alive
 * @property {() => Promise<void>} stop
 */

/** A loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (s.address());
      s.close(() => res(port));
    });
  });
}

/** The last non-empty line a process printed, without Redis's log prefix. */
function lastLine(out) {
  const line = out.trim().split('\n').filter((l) => l.trim()).slice(-1)[0] ?? '(no output)';
  return line.replace(/^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [.*#-] /, '').trim();
}

/** Sends PING until +PONG comes back (kvslab logs nothing at loglevel warning). */
async function waitReady(port, proc, outputFn, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`server exited (${proc.exitCode ?? proc.signalCode}) before it was ready: ${lastLine(outputFn())}`);
    }
    const ok = await new Promise((res) => {
      const sock = net.connect({ port, host: '127.0.0.1' });
      let buf = '';
      const done = (v) => { sock.destroy(); res(v); };
      sock.setTimeout(1000, () => done(false));
      sock.on('error', () => done(false));
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => { buf += d; if (buf.includes('\r\n')) done(buf.startsWith('+PONG')); });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on port ${port} did not answer PING within ${timeoutMs} ms: ${lastLine(outputFn())}`);
}

function launch(id, label, cmd, args, port, cleanup = () => {}) {
  const [file, ...argv] = [...pinArgs('server'), cmd, ...args];
  const proc = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let out = '';
  proc.stdout.on('data', (d) => { out = (out + d).slice(-20_000); });
  proc.stderr.on('data', (d) => { out = (out + d).slice(-20_000); });
  const exited = new Promise((r) => proc.once('exit', () => r(undefined)));
  /** @type {RunningServer} */
  const srv = {
    id, label, port,
    pid: /** @type {number} */ (proc.pid),
    output: () => out,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      cleanup();
    },
  };
  return waitReady(port, proc, srv.output).then(() => srv, async (e) => { await srv.stop(); throw e; });
}

/** Given to both servers: no memory limit, no eviction (Redis's defaults, stated so both surely match). */
export const COMMON_ARGS = ['--maxmemory', '0', '--maxmemory-policy', 'noeviction'];

/**
 * Starts one of the two servers. `extra` are --name value options given to both
 * (e.g. the same maxmemory settings).
 * @param {'kvslab'|'redis'} id
 * @param {string[]} [extra]
 * @returns {Promise<RunningServer>}
 */
export async function startServer(id, extra = []) {
  const port = await freePort();
  if (id === 'kvslab') {
    return launch(id, 'kvslab', process.execPath, [
      join(ROOT, 'bin', 'kvslab-server'), '--port', String(port), '--bind', '127.0.0.1', '--loglevel', 'warning', ...COMMON_ARGS, ...extra,
    ], port);
  }
  const dir = mkdtempSync(join(tmpdir(), 'kvslab-bench-redis-'));
  return launch(id, 'Redis', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--loglevel', 'warning', ...COMMON_ARGS, ...extra,
  ], port, () => rmSync(dir, { recursive: true, force: true }));
}

/**
 * Memory of a process from /proc/<pid>/status, in bytes.
 * @param {number} pid
 * @returns {{ rss: number, hwm: number }}
 */
export function procMemory(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** `redis-server --version` → "7.0.15". */
export function redisVersion() {
  try {
    const out = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
    return /v=(\S+)/.exec(out)?.[1] ?? out.trim();
  } catch {
    return 'not installed';
  }
}
