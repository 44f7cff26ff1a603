// Listening sockets: several bind addresses (IPv4, IPv6, optional '-'
// ones), the unix socket and its permissions, port 0, protected mode, and
// CONFIG SET port / bind rebinding at run time, against Redis's texts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { freePort, redisCli, ROOT, startKvslab, startRedis, RunningServer, kvslabAndRedis } from '../helpers/servers.js';

const BIN = join(ROOT, 'bin', 'kvslab-server');
/** TEST-NET-2: an address no interface of this machine has. */
const ABSENT = '198.51.100.7';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kvslab-listen-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Proc {
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts kvslab with exactly these arguments; resolves once it is ready or has exited. */
async function launch(args: string[]): Promise<Proc> {
  const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 20_000);
    const check = () => {
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on('data', (d) => { out += d; check(); });
    proc.stderr?.on('data', (d) => { out += d; });
    void exited.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  return { proc, output: () => out, exited };
}

/** The message part of each log line (without "pid:M date time mark "). */
function messages(log: string): string[] {
  return log.split('\n').filter(Boolean).map((l) => l.replace(/^\d+:[MC] .{24} [.\-*#] /, ''));
}

/** A raw connection: sends `send` and resolves with everything received once the server closes, or after `ms`. */
function exchange(opts: net.NetConnectOpts, send: string, ms = 1500): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(opts);
    let buf = '';
    const done = () => { clearTimeout(t); s.destroy(); resolve(buf); };
    const t = setTimeout(done, ms);
    s.on('connect', () => s.write(send));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (!/DENIED/.test(buf) && buf.endsWith('\r\n')) done();
    });
    s.on('close', done);
    s.on('error', (e) => { clearTimeout(t); reject(e); });
  });
}

function refused(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** Holds a port on 127.0.0.1 so that binding it fails. */
async function holdPort(): Promise<{ port: number; close(): void }> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  return { port: (s.address() as net.AddressInfo).port, close: () => s.close() };
}

describe('bind addresses at start-up', () => {
  it('listens on IPv4 and IPv6 addresses; a missing "-" address is skipped with Redis\'s warning', async () => {
    const port = await freePort();
    const srv = await launch(['--port', String(port), '--bind', `127.0.0.1 ::1 -${ABSENT}`]);
    try {
      expect(redisCli(port, ['ping']).trim()).toBe('PONG');
      expect(spawnSync('redis-cli', ['-h', '::1', '-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim()).toBe('PONG');
      expect(messages(srv.output())).toContain(`Warning: Could not create server TCP listening socket ${ABSENT}:${port}: bind: Cannot assign requested address`);
      expect(redisCli(port, ['config', 'get', 'bind'])).toBe(`bind\n127.0.0.1 ::1 -${ABSENT}\n`);
    } finally {
      srv.proc.kill('SIGKILL');
    }
  });

  it('a missing address without "-" stops start-up with the lines Redis logs', async () => {
    const port = await freePort();
    const kv = await launch(['--port', String(port), '--bind', `127.0.0.1 ${ABSENT}`]);
    expect(await kv.exited).toBe(1);
    const redis = spawnSync('redis-server', ['--port', String(port), '--bind', `127.0.0.1 ${ABSENT}`, '--save', ''], { encoding: 'utf8', timeout: 10_000 });
    expect(redis.status).toBe(1);
    const tail = (log: string) => messages(log).slice(-2);
    expect(tail(kv.output())).toEqual(tail(redis.stdout));
    expect(tail(kv.output())).toEqual([
      `Warning: Could not create server TCP listening socket ${ABSENT}:${port}: bind: Cannot assign requested address`,
      `Failed listening on port ${port} (TCP), aborting.`,
    ]);
    // And nothing at all to listen on is refused too.
    const none = await launch(['--port', String(port), '--bind', `-${ABSENT}`]);
    expect(await none.exited).toBe(1);
    expect(messages(none.output()).at(-1)).toBe('Configured to not listen anywhere, exiting.');
  });

  it('port 0 picks a free port, which CONFIG GET port then shows', async () => {
    const srv = await launch(['--port', '0', '--bind', '127.0.0.1']);
    try {
      const port = Number(/Running mode=standalone, port=(\d+)\./.exec(srv.output())?.[1]);
      expect(port).toBeGreaterThan(0);
      expect(redisCli(port, ['config', 'get', 'port'])).toBe(`port\n${port}\n`);
    } finally {
      srv.proc.kill('SIGKILL');
    }
  });
});

describe('unix socket', () => {
  it('listens with unixsocketperm, replaces a stale file, removes the socket on exit; port 0 then means no TCP', async () => {
    const path = join(dir, 'kvslab.sock');
    writeFileSync(path, 'stale');
    const srv = await launch(['--port', '0', '--unixsocket', path, '--unixsocketperm', '770']);
    try {
      const st = statSync(path);
      expect(st.isSocket()).toBe(true);
      expect(st.mode & 0o777).toBe(0o770);
      const cli = (...args: string[]) => spawnSync('redis-cli', ['-s', path, ...args], { encoding: 'utf8' }).stdout;
      expect(cli('ping')).toBe('PONG\n');
      expect(cli('config', 'get', 'unixsocket*')).toBe(`unixsocket\n${path}\nunixsocketperm\n770\n`);
      expect(cli('info', 'server')).toContain('tcp_port:0\r\n');
      expect(srv.output()).not.toContain('Ready to accept connections tcp');
      expect(messages(srv.output())).toContain(`The server is now ready to accept connections at ${path}`);
      // A unix-socket client is local: DEBUG (enable-debug-command local) is allowed.
      expect(cli('debug', 'set-active-expire', '1')).toBe('OK\n');
      // CLIENT LIST names it by the socket's path, port 0, with flag U (as Redis).
      expect(cli('client', 'info')).toMatch(new RegExp(`^id=\\d+ addr=${path}:0 laddr=${path}:0 fd=\\d+ name= age=\\d+ idle=\\d+ flags=U `));
      srv.proc.kill('SIGTERM');
      expect(await srv.exited).toBe(0);
      expect(existsSync(path)).toBe(false);
      expect(messages(srv.output())).toContain('Removing the unix socket file.');
    } finally {
      srv.proc.kill('SIGKILL');
    }
  });

  it('unixsocketperm is octal, with Redis\'s errors', () => {
    for (const [v, why] of [['1000', 'argument must be between 0 and 777 inclusive'], ['8', "argument couldn't be parsed as an octal number"]]) {
      const kv = spawnSync(BIN, ['--unixsocketperm', v], { encoding: 'utf8', timeout: 10_000 });
      const redis = spawnSync('redis-server', ['--unixsocketperm', v], { encoding: 'utf8', timeout: 10_000 });
      expect(kv.status).toBe(1);
      expect(redis.stderr).toContain(why);
      expect(kv.stderr).toContain(`>>> 'unixsocketperm ${v}'\n${why}`);
    }
  });

  it('a unix socket that cannot be created stops start-up', async () => {
    const kv = await launch(['--port', '0', '--unixsocket', join(dir, 'no', 'such', 'dir.sock')]);
    expect(await kv.exited).toBe(1);
    expect(messages(kv.output()).at(-1)).toBe('Failed opening Unix socket: bind: No such file or directory');
  });
});

describe('protected mode', () => {
  const pair = kvslabAndRedis();

  /** A client whose address is not 127.0.0.1 or ::1 (127.0.0.2 is loopback, but not local to Redis). */
  const outside = (port: number, send = 'PING\r\n') => exchange({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }, send);

  it('refuses non-local clients while the default user has no password, with Redis\'s exact DENIED text', async () => {
    // The refusal comes on accept; a client that sent something unread would see the close as a
    // reset that can overtake the text (with Redis as here), so these clients only listen.
    const [k, r] = [await outside(pair.kv.port, ''), await outside(pair.redis.port, '')];
    expect(k).toMatch(/^-DENIED Redis is running in protected mode because protected mode is enabled/);
    expect(k).toBe(r);
    expect(await exchange({ port: pair.kv.port, host: '127.0.0.1' }, 'PING\r\n')).toBe('+PONG\r\n');
    expect(redisCli(pair.kv.port, ['info', 'stats'])).toMatch(/rejected_connections:[1-9]/);
  });

  it('serves them once a password is set, or with protected-mode no', async () => {
    for (const port of [pair.kv.port, pair.redis.port]) redisCli(port, ['config', 'set', 'requirepass', 'sekret']);
    try {
      const k = await outside(pair.kv.port);
      expect(k).toBe('-NOAUTH Authentication required.\r\n');
      expect(k).toBe(await outside(pair.redis.port));
      expect(await outside(pair.kv.port, 'AUTH sekret\r\nPING\r\n')).toBe('+OK\r\n+PONG\r\n');
    } finally {
      for (const port of [pair.kv.port, pair.redis.port]) redisCli(port, ['-a', 'sekret', '--no-auth-warning', 'config', 'set', 'requirepass', '']);
    }
    expect(await outside(pair.kv.port, '')).toMatch(/^-DENIED/);
    for (const port of [pair.kv.port, pair.redis.port]) redisCli(port, ['config', 'set', 'protected-mode', 'no']);
    expect(await outside(pair.kv.port)).toBe('+PONG\r\n');
    expect(await outside(pair.redis.port)).toBe('+PONG\r\n');
  });
});

describe('CONFIG SET port and bind', () => {
  const pair = kvslabAndRedis();

  it('moves to a new port: the new one listens, the old one closes, connected clients stay', async () => {
    const client = pair.kv.client();
    await client.set('k', 'v');
    const next = await freePort();
    expect(redisCli(pair.kv.port, ['config', 'set', 'port', String(next)])).toBe('OK\n');
    expect(await refused(pair.kv.port)).toBe(true);
    expect(redisCli(next, ['get', 'k'])).toBe('v\n');
    expect(redisCli(next, ['config', 'get', 'port'])).toBe(`port\n${next}\n`);
    expect(redisCli(next, ['info', 'server'])).toContain(`tcp_port:${next}\r\n`);
    expect(await client.get('k')).toBe('v');
    // And back, so the helper's port is right again.
    expect(redisCli(next, ['config', 'set', 'port', String(pair.kv.port)])).toBe('OK\n');
    expect(await refused(next)).toBe(true);
  });

  it('a port that cannot be bound fails with Redis\'s error and changes nothing', async () => {
    const busy = await holdPort();
    try {
      const k = redisCli(pair.kv.port, ['config', 'set', 'port', String(busy.port)]);
      expect(k.trim()).toBe("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.");
      expect(k).toBe(redisCli(pair.redis.port, ['config', 'set', 'port', String(busy.port)]));
      expect(redisCli(pair.kv.port, ['config', 'get', 'port'])).toBe(`port\n${pair.kv.port}\n`);
      expect(redisCli(pair.kv.port, ['ping'])).toBe('PONG\n');
      // Several pairs: all or none.
      expect(redisCli(pair.kv.port, ['config', 'set', 'maxmemory', '7mb', 'port', String(busy.port)])).toMatch(/Unable to listen on this port/);
      expect(redisCli(pair.kv.port, ['config', 'get', 'maxmemory'])).toBe('maxmemory\n0\n');
    } finally {
      busy.close();
    }
  });

  it('bind: new addresses first, a failing set changes nothing, wildcards replace specific addresses', async () => {
    const k = redisCli(pair.kv.port, ['config', 'set', 'bind', `127.0.0.1 ${ABSENT}`]);
    expect(k.trim()).toBe("ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.");
    expect(k).toBe(redisCli(pair.redis.port, ['config', 'set', 'bind', `127.0.0.1 ${ABSENT}`]));
    expect(redisCli(pair.kv.port, ['config', 'get', 'bind'])).toBe('bind\n127.0.0.1\n');
    expect(redisCli(pair.kv.port, ['ping'])).toBe('PONG\n');

    expect(redisCli(pair.kv.port, ['config', 'set', 'bind', `127.0.0.1 ::1 -${ABSENT}`])).toBe('OK\n');
    expect(spawnSync('redis-cli', ['-h', '::1', '-p', String(pair.kv.port), 'ping'], { encoding: 'utf8' }).stdout).toBe('PONG\n');

    // 0.0.0.0 and 127.0.0.1 cannot share a port: the old socket goes first here.
    expect(redisCli(pair.kv.port, ['config', 'set', 'bind', '* -::*'])).toBe('OK\n');
    expect(await exchange({ port: pair.kv.port, host: '127.0.0.2' }, 'PING\r\n')).toMatch(/^-DENIED|^\+PONG/);
    expect(redisCli(pair.kv.port, ['config', 'get', 'bind'])).toBe('bind\n* -::*\n');
    expect(redisCli(pair.kv.port, ['config', 'set', 'bind', '127.0.0.1'])).toBe('OK\n');
    expect(await refused(pair.kv.port, '127.0.0.2')).toBe(true);
    expect(await refused(pair.kv.port, '::1')).toBe(true);
    expect(redisCli(pair.kv.port, ['ping'])).toBe('PONG\n');
    const many = Array.from({ length: 17 }, () => '127.0.0.1').join(' ');
    expect(redisCli(pair.kv.port, ['config', 'set', 'bind', many]).trim()).toBe("ERR CONFIG SET failed (possibly related to argument 'bind') - Too many bind addresses specified.");
    expect(redisCli(pair.kv.port, ['config', 'set', 'bind', many])).toBe(redisCli(pair.redis.port, ['config', 'set', 'bind', many]));
  });
});
