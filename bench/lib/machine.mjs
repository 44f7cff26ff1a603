// What machine the benchmark runs on, and how roles are pinned to cores:
// the servers on core 1, every load generator (redis-benchmark, redis-cli,
// this harness) on core 0, so each side has a core of its own.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const BENCH = resolve(ROOT, 'bench');

const SERVER_CORE = '1';
const CLIENT_CORE = '0';

function hasTaskset() {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pinning needs taskset (util-linux) and at least two usable cores. */
export const PINNING = os.availableParallelism() >= 2 && hasTaskset();

/**
 * Command prefix that pins a child to its role's core ([] when pinning is off).
 * @param {'server'|'client'} role
 * @returns {string[]}
 */
export function pinArgs(role) {
  if (!PINNING) return [];
  return ['taskset', '-c', role === 'server' ? SERVER_CORE : CLIENT_CORE];
}

/** Moves every thread of this process to the client core. */
export function pinSelf() {
  if (!PINNING) return false;
  try {
    execFileSync('taskset', ['-a', '-cp', CLIENT_CORE, String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Version string of kvslab from src/version.ts's build output, if built. */
async function kvslabVersion() {
  try {
    const v = await import(resolve(ROOT, 'dist', 'version.js'));
    return String(v.KVSLAB_VERSION ?? 'unknown');
  } catch {
    return 'unknown (not built)';
  }
}

/**
 * @param {{ redis: string, memcached?: string }} versions  memcached's only when a suite runs it.
 * @returns {Promise<Record<string, unknown>>}
 */
export async function machineInfo(versions) {
  let osName = `${os.type()} ${os.release()}`;
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) osName = `${m[1]} (kernel ${os.release()})`;
  } catch { /* keep uname */ }
  let benchmarkVersion = 'unknown';
  try {
    benchmarkVersion = execFileSync('redis-benchmark', ['--version'], { encoding: 'utf8' }).trim();
  } catch { /* reported as unknown */ }
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    os: osName,
    node: process.version,
    redis: versions.redis,
    ...(versions.memcached ? { memcached: versions.memcached } : {}),
    redisBenchmark: benchmarkVersion,
    kvslab: await kvslabVersion(),
    pinning: PINNING ? `servers on core ${SERVER_CORE}, load generators on core ${CLIENT_CORE} (taskset)` : 'none (needs taskset and 2 cores)',
  };
}

let clkTck = 0;
function ticksPerSecond() {
  if (!clkTck) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * CPU time used by the whole machine and by this process plus its reaped
 * children (servers and redis-benchmark runs once they exit), in seconds.
 * @returns {{ at: number, machine: number, ours: number } | null}
 */
export function cpuSnapshot() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const machine = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0);
    const self = readFileSync('/proc/self/stat', 'utf8');
    const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
    const ours = f[11] + f[12] + f[13] + f[14]; // utime stime cutime cstime
    const hz = ticksPerSecond();
    return { at: performance.now() / 1000, machine: machine / hz, ours: ours / hz };
  } catch {
    return null;
  }
}

/**
 * Average number of cores that processes other than this benchmark kept busy
 * between two snapshots (other sessions' builds and tests, hypervisor steal).
 * @param {ReturnType<typeof cpuSnapshot>} a
 * @param {ReturnType<typeof cpuSnapshot>} b
 * @returns {number|null}
 */
export function otherLoad(a, b) {
  if (!a || !b || b.at <= a.at) return null;
  return Math.max(0, (b.machine - a.machine - (b.ours - a.ours)) / (b.at - a.at));
}

/**
 * Waits (up to `maxMs`) until other processes keep less than `threshold`
 * cores busy over a 1 s window, so a round does not start in the middle of
 * someone else's build. Returns the last load seen.
 * @param {number} maxMs
 * @param {number} [threshold]
 */
export async function waitQuiet(maxMs, threshold = 0.25) {
  const deadline = Date.now() + maxMs;
  let load = null;
  do {
    const a = cpuSnapshot();
    await new Promise((r) => setTimeout(r, 1000));
    load = otherLoad(a, cpuSnapshot());
    if (load === null || load < threshold) break;
  } while (Date.now() < deadline);
  return load;
}
