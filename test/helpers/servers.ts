// Starts real server processes for tests: the built kvslab daemon and, for
// differential tests, Debian's redis-server. Each gets a free loopback port.

import { spawn, ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const BIN = join(ROOT, 'bin', 'kvslab-server');

export interface RunningServer {
  port: number;
  proc: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
  /** An ioredis client on this server; closed by stop(). */
  client(opts?: Record<string, unknown>): Redis;
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

function track(proc: ChildProcess, port: number, readyPattern: RegExp): Promise<RunningServer> {
  let out = '';
  const clients: Redis[] = [];
  proc.stdout?.on('data', (d) => { out += d; });
  proc.stderr?.on('data', (d) => { out += d; });
  const server: RunningServer = {
    port,
    proc,
    output: () => out,
    client(opts = {}) {
      const c = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 0, ...opts });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const done = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    },
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 20_000);
    const check = () => {
      if (readyPattern.test(out)) {
        clearTimeout(timer);
        res(server);
      }
    };
    proc.stdout?.on('data', check);
    proc.stderr?.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

/** Starts kvslab with the given arguments (config file and/or --name value pairs). */
export async function startKvslab(args: string[] = []): Promise<RunningServer> {
  return startKvslabOn(await freePort(), args);
}

/**
 * Starts kvslab on a given port: a test restarts it where its clients expect it. As Redis in
 * startRedis, no save rules unless a config file or the test's own --save says otherwise; the
 * dump, if any, goes to the test's own directory (see sandbox.ts).
 */
export async function startKvslabOn(port: number, args: string[] = []): Promise<RunningServer> {
  // A config file (first, as on redis-server's command line) has its own say on saving.
  const withFile = args.length > 0 && !args[0].startsWith('--');
  const proc = spawn(BIN, [...(withFile ? [] : ['--save', '']), ...args, '--port', String(port), '--bind', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(proc, port, /Ready to accept connections/);
}

/** Starts Debian's redis-server with persistence off. */
export async function startRedis(args: string[] = []): Promise<RunningServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kvslab-redis-'));
  const proc = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  return track(proc, port, /Ready to accept connections/);
}

/** Waits (up to 5 s) until the server's output holds `text`: log lines reach the test a moment after the reply. Returns the output. */
export async function logged(server: RunningServer, text: string | RegExp): Promise<string> {
  const end = Date.now() + 5000;
  const has = () => (typeof text === 'string' ? server.output().includes(text) : text.test(server.output()));
  while (!has() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return server.output();
}

/** Runs redis-cli against a port; returns stdout. */
export function redisCli(port: number, args: string[], input?: string | Buffer): string {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/**
 * A kvslab and a Redis for the tests of the enclosing describe (or file):
 * started before them, side by side, and stopped after.
 */
export function kvslabAndRedis(): { kv: RunningServer; redis: RunningServer } {
  const both = {} as { kv: RunningServer; redis: RunningServer };
  beforeAll(async () => {
    [both.kv, both.redis] = await Promise.all([startKvslab(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([both.kv?.stop(), both.redis?.stop()]);
  });
  return both;
}
