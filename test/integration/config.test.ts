// Start-up configuration: the shipped config file, bad files stopping with
// file/line/reason, command-line overrides, port 0, CONFIG REWRITE surviving a
// restart, --help and --version.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ROOT, freePort, startKvslab } from '../helpers/servers.js';

const BIN = join(ROOT, 'bin', 'kvslab-server');
const dir = mkdtempSync(join(tmpdir(), 'kvslab-config-'));
let fileNo = 0;

function confFile(text: string): string {
  const p = join(dir, `t${fileNo++}.conf`);
  writeFileSync(p, text);
  return p;
}

interface Outcome { code: number | null; output: string }

/** Runs the server expecting it to fail start-up. */
function runToExit(args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d) => { output += d; });
    proc.stderr.on('data', (d) => { output += d; });
    const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.on('exit', (code) => { clearTimeout(t); resolve({ code, output }); });
  });
}

/** Starts the server with exactly these arguments; resolves with its port from the log. */
function startRaw(args: string[]): Promise<{ port: number; output: () => string; stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no start:\n${out}`)); }, 15_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /Running mode=standalone, port=(\d+)\./.exec(out);
      if (m && /Ready to accept connections/.test(out)) {
        clearTimeout(t);
        resolve({
          port: Number(m[1]),
          output: () => out,
          stop: () => new Promise<void>((r) => {
            if (proc.exitCode !== null) return r();
            proc.once('exit', () => r());
            proc.kill('SIGTERM');
          }),
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error(`exited ${code}:\n${out}`)); });
  });
}

async function configGet(port: number, name: string): Promise<string> {
  const r = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  try {
    return ((await r.call('CONFIG', 'GET', name)) as string[])[1];
  } finally {
    r.disconnect();
  }
}

describe('config file', () => {
  it('the shipped conf/kvslab.conf loads and covers every directive', async () => {
    const s = await startKvslab([join(ROOT, 'conf', 'kvslab.conf')]);
    try {
      const r = s.client();
      expect(await r.call('CONFIG', 'GET', 'loglevel')).toEqual(['loglevel', 'notice']);
      expect(await r.call('CONFIG', 'GET', 'proto-max-bulk-len')).toEqual(['proto-max-bulk-len', String(512 * 1024 * 1024)]);
      const info = await r.info('server');
      expect(info).toContain(`config_file:${join(ROOT, 'conf', 'kvslab.conf')}`);
      // Every directive CONFIG GET knows appears in the documented file.
      const all = await r.call('CONFIG', 'GET', '*') as string[];
      const text = readFileSync(join(ROOT, 'conf', 'kvslab.conf'), 'utf8');
      for (let i = 0; i < all.length; i += 2) expect(text, all[i]).toMatch(new RegExp(`^${all[i]} `, 'm'));
    } finally {
      await s.stop();
    }
  });

  it('a good file sets values, with units and quoting', async () => {
    const file = confFile([
      '# comment',
      '',
      'maxmemory 100mb',
      'MAXMEMORY-POLICY allkeys-lru',
      'client-query-buffer-limit 1gb',
      'timeout 7',
      'requirepass "pass word"',
      'save 900 1',
      'save 300 10',
      'appendonly no',
    ].join('\n'));
    const s = await startKvslab([file]);
    try {
      const r = s.client({ password: 'pass word' });
      const got = await r.call('CONFIG', 'GET', 'maxmemory', 'maxmemory-policy', 'client-query-buffer-limit', 'timeout', 'save', 'requirepass') as string[];
      const m = new Map<string, string>();
      for (let i = 0; i < got.length; i += 2) m.set(got[i], got[i + 1]);
      expect(m.get('maxmemory')).toBe('104857600');
      expect(m.get('maxmemory-policy')).toBe('allkeys-lru');
      expect(m.get('client-query-buffer-limit')).toBe('1073741824');
      expect(m.get('timeout')).toBe('7');
      expect(m.get('save')).toBe('900 1 300 10');
      expect(m.get('requirepass')).toBe('pass word');
    } finally {
      await s.stop();
    }
  });

  const bad: [string, string, number, string][] = [
    ['unknown directive', 'port 7000\nnosuch-directive yes\n', 2, 'Bad directive or wrong number of arguments'],
    ['bad int', '# x\n\ndatabases abc\n', 3, "argument couldn't be parsed into an integer"],
    ['int out of range', 'active-expire-effort 11\n', 1, 'argument must be between 1 and 10 inclusive'],
    ['bad memory', 'maxmemory 10xb\n', 1, 'argument must be a memory value'],
    ['bad enum', 'maxmemory-policy sometimes\n', 1, 'argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction'],
    ['bad bool', 'appendonly maybe\n', 1, "argument must be 'yes' or 'no'"],
    ['missing value', 'loglevel\n', 1, 'wrong number of arguments'],
    ['unbalanced quotes', 'requirepass "abc\n', 1, 'Unbalanced quotes in configuration line'],
  ];
  for (const [what, text, line, reason] of bad) {
    it(`stops on ${what}, naming file, line and problem`, async () => {
      const file = confFile(text);
      const { code, output } = await runToExit([file]);
      expect(code).toBe(1);
      expect(output).toContain(`Reading the configuration file ${file}, at line ${line}`);
      expect(output).toContain(reason);
    });
  }

  it('a missing file stops start-up', async () => {
    const { code, output } = await runToExit([join(dir, 'missing.conf')]);
    expect(code).toBe(1);
    expect(output).toContain(`can't open config file '${join(dir, 'missing.conf')}'`);
  });

  it('a bad command-line value stops start-up too', async () => {
    const { code, output } = await runToExit(['--maxmemory-policy', 'bogus']);
    expect(code).toBe(1);
    expect(output).toContain('argument(s) must be one of the following');
  });
});

describe('command line', () => {
  it('overrides the file', async () => {
    const file = confFile('maxmemory 1mb\nhz 20\n');
    const s = await startKvslab([file, '--maxmemory', '2mb', '--loglevel', 'verbose']);
    try {
      expect(await configGet(s.port, 'maxmemory')).toBe(String(2 * 1024 * 1024));
      expect(await configGet(s.port, 'hz')).toBe('20');
      expect(await configGet(s.port, 'loglevel')).toBe('verbose');
    } finally {
      await s.stop();
    }
  });

  it('port 0 picks a free port and logs it', async () => {
    const s = await startRaw(['--port', '0', '--bind', '127.0.0.1']);
    try {
      expect(s.port).toBeGreaterThan(0);
      expect(await configGet(s.port, 'databases')).toBe('16');
    } finally {
      await s.stop();
    }
  });

  it('--help and --version', () => {
    const help = execFileSync(BIN, ['--help'], { encoding: 'utf8' });
    expect(help).toContain('Usage: kvslab-server');
    expect(help).toContain('--name value');
    const version = execFileSync(BIN, ['--version'], { encoding: 'utf8' });
    expect(version).toMatch(/v=\d+\.\d+\.\d+ redis-compat=7\.0\.15/);
  });
});

describe('CONFIG REWRITE', () => {
  it('keeps CONFIG SET values across a restart, and the file comments', async () => {
    const port = await freePort();
    const file = confFile(`# my settings\nport ${port}\nbind 127.0.0.1\nmaxmemory 10mb\n# policy below\nmaxmemory-policy noeviction\n`);
    const s1 = await startRaw([file]);
    const r = new Redis(s1.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
    try {
      expect(await r.call('CONFIG', 'SET', 'maxmemory', '100mb', 'maxmemory-policy', 'allkeys-lru', 'timeout', '42', 'requirepass', 'sec"ret x')).toBe('OK');
      expect(await r.call('CONFIG', 'REWRITE')).toBe('OK');
    } finally {
      r.disconnect();
      await s1.stop();
    }
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# my settings');
    expect(text).toContain('# policy below');
    expect(text).toMatch(/^maxmemory 100mb$/m);
    expect(text).toMatch(/^maxmemory-policy allkeys-lru$/m);
    expect(text).toMatch(/^timeout 42$/m);

    const s2 = await startRaw([file]);
    const r2 = new Redis(s2.port, '127.0.0.1', { maxRetriesPerRequest: 0, password: 'sec"ret x' });
    try {
      expect(s2.port).toBe(port);
      const got = await r2.call('CONFIG', 'GET', 'maxmemory', 'maxmemory-policy', 'timeout', 'requirepass') as string[];
      const m = new Map<string, string>();
      for (let i = 0; i < got.length; i += 2) m.set(got[i], got[i + 1]);
      expect(m).toEqual(new Map([['maxmemory', '104857600'], ['maxmemory-policy', 'allkeys-lru'], ['timeout', '42'], ['requirepass', 'sec"ret x']]));
    } finally {
      r2.disconnect();
      await s2.stop();
    }
  });
});
