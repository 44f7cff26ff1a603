// Starting the servers under test on free loopback ports, pinned to the
// server core, and reading their memory from /proc.
//
// Each server kind is one entry of SERVERS: how to launch it, which protocol
// it speaks and how to tell it is ready. To add a server, add an entry here
// (and a colour in report.mjs); suites then name it in their `servers` list.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { BENCH, ROOT, pinArgs } from './machine.mjs';

/** @typedef {'kvslab'|'kvslab-base'|'redis'|'memcached'|'ceiling'} ServerId */

/**
 * @typedef {object} RunningServer
 * @property {ServerId} id
 * @property {string} label       Name shown in tables.
 * @property {'resp'|'memcache'} protocol
 * @property {number} port
 * @property {number} pid
 * @property {() => string} output Everything the process printed so far.
 * @property {() => boolean} alive
 * @property {() => Promise<void>} stop
 */

/**
 * @typedef {object} StartOptions
 * @property {string[]} [extra]  Redis-style `--name value` options for the RESP
 *   servers that take a config (kvslab and Redis), e.g. maxmemory settings.
 * @property {string[]} [args]   Options appended for this server kind only.
 * @property {boolean} [bothCores]  Not pinned to the server core: for a figure
 *   of a server alone on the machine (a load at start), said so in its label.
 */

/** Given to kvslab and Redis: no memory limit, no eviction (Redis's defaults, stated so both surely match). */
export const COMMON_ARGS = ['--maxmemory', '0', '--maxmemory-policy', 'noeviction'];

/**
 * The build kvslab-base runs: kvslab at another git revision, checked out and
 * built in a temporary worktree (lib/baseline.mjs, `run.mjs --baseline <ref>`).
 * `dir` is only known while a run has it; the report sets the rest from the
 * results so the column keeps its name.
 * @typedef {{ ref: string, sha: string, short: string, subject?: string, version?: string, dir?: string }} Baseline
 */
/** @type {Baseline|null} */
let baseline = null;

/** Points kvslab-base at a baseline build (or, with null, at none). @param {Baseline|null} b */
export function useBaseline(b) {
  baseline = b;
}

/** kvslab and kvslab-base are the same daemon at two revisions: suites treat them alike. @param {string} id */
export const isKvslab = (id) => id === 'kvslab' || id === 'kvslab-base';

/**
 * A list of servers that names kvslab names kvslab-base too (right after it),
 * so a figure or series meant for kvslab also runs on the baseline build.
 * @param {ServerId[]} ids
 * @returns {ServerId[]}
 */
export const withBaseline = (ids) => (ids.includes('kvslab') && !ids.includes('kvslab-base')
  ? ids.flatMap((id) => (id === 'kvslab' ? ['kvslab', 'kvslab-base'] : [id]))
  : ids);

/** kvslab's command line, the same for both builds. @param {number} port @param {StartOptions} o */
const kvslabArgs = (port, o) => ['--port', String(port), '--bind', '127.0.0.1', '--loglevel', 'warning',
  ...COMMON_ARGS, ...(o.extra ?? []), ...(o.args ?? [])];

/** memcached's memory limit when a suite does not set one (-m, MiB); it is a cap, not an allocation. */
const MEMCACHED_DEFAULT_MIB = 1024;

/**
 * `cwd`: where the process runs (default the repository root).
 * @type {Record<ServerId, { label: string, protocol: 'resp'|'memcache', describe: string,
 *   start: (port: number, o: StartOptions) => { cmd: string, args: string[], cwd?: string, cleanup?: () => void } }>}
 */
export const SERVERS = {
  kvslab: {
    label: 'kvslab',
    protocol: 'resp',
    describe: '`bin/kvslab-server` (built by `make build`)',
    start: (port, o) => ({ cmd: join(ROOT, 'bin', 'kvslab-server'), args: kvslabArgs(port, o) }),
  },
  'kvslab-base': {
    // Named after the revision, so a table says which build the ratio is against.
    get label() { return baseline ? `kvslab@${baseline.short}` : 'kvslab-base'; },
    protocol: 'resp',
    describe: '`bin/kvslab-server` of another git revision (`--baseline <ref>`), built by `npx tsc` in a temporary worktree with the same node_modules, started with the same options as kvslab',
    start: (port, o) => {
      if (!baseline?.dir) throw new Error('kvslab-base runs only with --baseline <git-ref>');
      return { cmd: join(baseline.dir, 'bin', 'kvslab-server'), args: kvslabArgs(port, o), cwd: baseline.dir };
    },
  },
  redis: {
    label: 'Redis',
    protocol: 'resp',
    describe: "Debian's `redis-server --save '' --appendonly no`",
    start: (port, o) => {
      const dir = mkdtempSync(join(tmpdir(), 'kvslab-bench-redis-'));
      return {
        cmd: 'redis-server',
        args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
          '--loglevel', 'warning', ...COMMON_ARGS, ...(o.extra ?? []), ...(o.args ?? [])],
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  memcached: {
    label: 'memcached',
    protocol: 'memcache',
    describe: "Debian's `memcached -l 127.0.0.1 -U 0` (text protocol; `-m` set per suite)",
    start: (port, o) => {
      const args = ['-p', String(port), '-l', '127.0.0.1', '-U', '0'];
      // memcached refuses to run as root unless told which user to be.
      if (process.getuid?.() === 0) args.push('-u', 'root');
      if (!(o.args ?? []).includes('-m')) args.push('-m', String(MEMCACHED_DEFAULT_MIB));
      return { cmd: 'memcached', args: [...args, ...(o.args ?? [])] };
    },
  },
  ceiling: {
    label: 'ceiling',
    protocol: 'resp',
    describe: '`bench/lib/ceiling-server.mjs`: bare Node.js, parses RESP and answers fixed replies, no store',
    start: (port, o) => ({
      cmd: process.execPath,
      args: [join(BENCH, 'lib', 'ceiling-server.mjs'), '--port', String(port), ...(o.args ?? [])],
    }),
  },
};

/** Every server kind, in the order of table columns and of the servers within a round. */
export const SERVER_IDS = /** @type {ServerId[]} */ (Object.keys(SERVERS));

/** @param {string} id */
export const serverLabel = (id) => SERVERS[/** @type {ServerId} */ (id)]?.label ?? id;

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

/** What to send, and how the answer starts, to tell a server is up (kvslab logs nothing at loglevel warning). */
const READY_PROBE = {
  resp: { send: '*1\r\n$4\r\nPING\r\n', expect: '+PONG' },
  memcache: { send: 'version\r\n', expect: 'VERSION ' },
};

/** Sends the protocol's ping until the expected answer comes back. */
async function waitReady(port, proc, outputFn, protocol, timeoutMs = 20_000) {
  const probe = READY_PROBE[protocol];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`exited (${proc.exitCode ?? proc.signalCode}): ${lastLine(outputFn())}`);
    }
    const ok = await new Promise((res) => {
      const sock = net.connect({ port, host: '127.0.0.1' });
      let buf = '';
      const done = (v) => { sock.destroy(); res(v); };
      sock.setTimeout(1000, () => done(false));
      sock.on('error', () => done(false));
      sock.on('connect', () => sock.write(probe.send));
      sock.on('data', (d) => { buf += d; if (buf.includes('\r\n')) done(buf.startsWith(probe.expect)); });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on port ${port} did not answer within ${timeoutMs} ms: ${lastLine(outputFn())}`);
}

/**
 * Starts one server. A command that cannot be found or an option the server
 * refuses ends up in the thrown error's message.
 * @param {ServerId} id
 * @param {StartOptions} [o]
 * @returns {Promise<RunningServer>}
 */
export async function startServer(id, o = {}) {
  const kind = SERVERS[id];
  if (!kind) throw new Error(`unknown server ${id}`);
  const port = await freePort();
  const { cmd, args, cwd = ROOT, cleanup = () => {} } = kind.start(port, o);
  const [file, ...argv] = [...(o.bothCores ? [] : pinArgs('server')), cmd, ...args];
  const proc = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let out = '';
  proc.stdout.on('data', (d) => { out = (out + d).slice(-20_000); });
  proc.stderr.on('data', (d) => { out = (out + d).slice(-20_000); });
  // Without taskset a missing command fails the spawn itself.
  proc.on('error', (e) => { out += `\n${e.message}`; });
  const exited = new Promise((r) => proc.once('exit', () => r(undefined)));
  /** @type {RunningServer} */
  const srv = {
    id, label: kind.label, protocol: kind.protocol, port,
    pid: /** @type {number} */ (proc.pid),
    output: () => out,
    alive: () => proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined,
    async stop() {
      if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      cleanup();
    },
  };
  if (proc.pid === undefined) {
    await new Promise((r) => setImmediate(r));
    cleanup();
    throw new Error(`could not start ${cmd}: ${lastLine(out)}`);
  }
  return waitReady(port, proc, srv.output, kind.protocol).then(() => srv, async (e) => { await srv.stop(); throw e; });
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

/**
 * Samples a process's VmRSS every `everyMs` until stop(), which returns the
 * largest value seen (bytes), including one last reading at stop.
 * @param {number} pid
 * @param {number} [everyMs]
 */
export function watchRss(pid, everyMs = 200) {
  let max = 0;
  const read = () => {
    try {
      max = Math.max(max, procMemory(pid).rss);
    } catch { /* the process is gone: keep what was seen */ }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      return max;
    },
  };
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

/** `memcached -V` → "1.6.18". */
export function memcachedVersion() {
  try {
    const out = execFileSync('memcached', ['-V'], { encoding: 'utf8' });
    return /memcached (\S+)/.exec(out)?.[1] ?? out.trim();
  } catch {
    return 'not installed';
  }
}
