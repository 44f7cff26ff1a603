// Limits that protect the server from its clients, on a real kvslab process:
// maxclients, the idle timeout, TCP keepalive, client-output-buffer-limit
// (a client that asks for big replies and does not read them is cut off
// before the server's memory grows, while the others keep being served),
// proto-max-bulk-len, and the buffer sizes CLIENT LIST shows for each client.

import net from 'node:net';
import { spawn, ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startKvslab, startRedis, RunningServer, ROOT } from '../helpers/servers.js';
import { RawClient, encodeCommand, show } from '../helpers/raw-client.js';
import { info, parseClientList as parseList } from '../helpers/info.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A raw socket that collects what it receives; `pause` leaves replies unread in the server. */
async function rawSocket(port: number, opts: { pause?: boolean; allowHalfOpen?: boolean } = {}) {
  const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: opts.allowHalfOpen ?? false });
  await new Promise((r) => s.once('connect', r));
  const state = { socket: s, data: Buffer.alloc(0), received: 0, closed: false, ended: false };
  s.on('error', () => {});
  s.on('end', () => { state.ended = true; });
  s.on('close', () => { state.closed = true; });
  s.on('data', (d: Buffer) => {
    state.received += d.length;
    if (state.data.length < 4096) state.data = Buffer.concat([state.data, d]);
  });
  if (opts.pause) s.pause();
  return state;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(25);
  }
  return true;
}


async function clientLine(c: RawClient, id: number): Promise<Map<string, string>> {
  const text = show(await c.call('CLIENT', 'LIST', 'ID', String(id))) as string;
  return parseList(text)[0];
}

/** A client that keeps writing and reading its own keys; counts wrong answers. */
function startChecker(srv: RunningServer) {
  const r = srv.client();
  const state = { ops: 0, wrong: 0, errors: 0, stop: false, done: Promise.resolve() };
  state.done = (async () => {
    for (let i = 0; !state.stop; i++) {
      const v = `v${i}-`.repeat(1 + (i % 50) * 20);
      try {
        await r.set(`checker:${i % 64}`, v);
        if ((await r.get(`checker:${i % 64}`)) !== v) state.wrong++;
        state.ops++;
      } catch {
        state.errors++;
        await sleep(50);
      }
    }
  })();
  return state;
}

describe('maxclients', () => {
  let srv: RunningServer;
  beforeAll(async () => { srv = await startKvslab(['--maxclients', '4']); });
  afterAll(async () => { await srv.stop(); });

  it('refuses the connection past the limit with Redis error, and closes it', async () => {
    const admin = await RawClient.connect(srv.port);
    const others = await Promise.all([1, 2, 3].map(() => RawClient.connect(srv.port)));
    for (const o of others) expect(show(await o.call('PING'))).toBe('PONG');
    const extra = await rawSocket(srv.port);
    expect(await until(() => extra.closed, 3000)).toBe(true);
    expect(extra.data.toString()).toBe('-ERR max number of clients reached\r\n');
    const stats = parseInfoText(show(await admin.call('INFO', 'stats')) as string);
    expect(Number(stats.get('rejected_connections'))).toBeGreaterThanOrEqual(1);
    const clients = parseInfoText(show(await admin.call('INFO', 'clients')) as string);
    expect(clients.get('connected_clients')).toBe('4');
    expect(clients.get('maxclients')).toBe('4');

    // One leaves: the next one is served.
    others[0].close();
    await sleep(200);
    const next = await RawClient.connect(srv.port);
    expect(show(await next.call('PING'))).toBe('PONG');

    // Raised at run time: two more fit.
    expect(show(await admin.call('CONFIG', 'SET', 'maxclients', '6'))).toBe('OK');
    const more = await Promise.all([1, 2].map(() => RawClient.connect(srv.port)));
    for (const m of more) expect(show(await m.call('PING'))).toBe('PONG');
    expect(show(await admin.call('CONFIG', 'SET', 'maxclients', '4'))).toBe('OK');
    for (const c of [admin, next, ...others, ...more]) c.close();
  });

  it('a flood of refused peers that never close their side leaves no socket open in the server', async () => {
    await sleep(200);
    const pid = srv.proc.pid as number;
    const fdsBefore = openFds(pid);
    // Fill the server, then knock 200 times with peers that keep their side open.
    const held = await Promise.all([1, 2, 3, 4].map(() => RawClient.connect(srv.port)));
    const refused = await Promise.all(Array.from({ length: 200 }, () => rawSocket(srv.port, { allowHalfOpen: true })));
    expect(await until(() => refused.every((r) => r.ended), 10_000)).toBe(true);
    expect(refused.every((r) => r.data.toString() === '-ERR max number of clients reached\r\n')).toBe(true);
    // The server closed its side of every refused socket, not just half of it.
    await until(() => openFds(pid) <= fdsBefore + 4 + 2, 5000);
    expect(openFds(pid)).toBeLessThanOrEqual(fdsBefore + 4 + 2);
    for (const r of refused) r.socket.destroy();
    expect(show(await held[0].call('PING'))).toBe('PONG');
    for (const h of held) h.close();
  });
});

describe('maxclients under a low open-file limit', () => {
  let proc: ChildProcess;
  let port: number;
  let out = '';
  beforeAll(async () => {
    port = await freePort();
    // The limit is lowered for this server alone (lowering needs no privilege).
    proc = spawn('sh', ['-c', 'ulimit -n 120 && exec "$0" "$@"', join(ROOT, 'bin', 'kvslab-server'), '--port', String(port), '--bind', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (d) => { out += d; });
    proc.stderr?.on('data', (d) => { out += d; });
    expect(await until(() => /Ready to accept connections/.test(out), 20_000)).toBe(true);
  });
  afterAll(() => { proc.kill('SIGKILL'); });

  it('is lowered to fit, as Redis does, so clients past it get the error rather than a reset', async () => {
    expect(out).toContain('You requested maxclients of 10000 requiring at least 10032 max file descriptors.');
    expect(out).toContain("Current maximum open files is 120. maxclients has been reduced to 88 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.");
    const admin = await RawClient.connect(port);
    expect(show(await admin.call('CONFIG', 'GET', 'maxclients'))).toEqual(['maxclients', '88']);
    const socks = await Promise.all(Array.from({ length: 100 }, () => rawSocket(port)));
    for (const s of socks) s.socket.write(encodeCommand(['PING']));
    expect(await until(() => socks.every((s) => s.data.length > 0), 5000)).toBe(true);
    const answers = socks.map((s) => s.data.toString());
    expect(answers.filter((a) => a === '+PONG\r\n').length).toBe(87);
    expect(answers.filter((a) => a === '-ERR max number of clients reached\r\n').length).toBe(13);
    for (const s of socks) s.socket.destroy();
    await sleep(200);
    expect(show(await admin.call('PING'))).toBe('PONG');
    admin.close();
  });
});

function parseInfoText(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

describe('timeout', () => {
  let srv: RunningServer;
  beforeAll(async () => { srv = await startKvslab(['--timeout', '1']); });
  afterAll(async () => { await srv.stop(); });

  it('closes idle clients, in MULTI too; busy ones and slow readers of a long reply stay', async () => {
    const setup = await RawClient.connect(srv.port);
    expect(show(await setup.call('SET', 'big', Buffer.alloc(24 << 20, 0x61)))).toBe('OK');
    setup.close();

    const idle = await RawClient.connect(srv.port);
    const inMulti = await RawClient.connect(srv.port);
    expect(show(await inMulti.call('MULTI'))).toBe('OK');
    const busy = await RawClient.connect(srv.port);
    let busyOk = 0;
    const pinger = setInterval(() => { void busy.call('PING').then(() => { busyOk++; }); }, 200);

    // Reads the 24 MB reply at about 8 MB/s: for three times the timeout.
    const slow = net.connect(srv.port, '127.0.0.1');
    await new Promise((r) => slow.once('connect', r));
    let got = 0;
    let budget = 0;
    let slowClosed = false;
    slow.on('close', () => { slowClosed = true; });
    const consume = () => {
      let b: Buffer | null;
      while (budget > 0 && (b = slow.read() as Buffer | null) !== null) {
        got += b.length;
        budget -= b.length;
      }
    };
    slow.on('readable', consume);
    const reader = setInterval(() => { budget = 800 * 1024; consume(); }, 100);
    slow.write(encodeCommand(['GET', 'big']));

    expect(await idle.waitClose(5000)).toBe(true);
    expect(await inMulti.waitClose(5000)).toBe(true);
    const want = (24 << 20) + `$${24 << 20}\r\n`.length + 2;
    const ok = await until(() => got >= want || slowClosed, 30_000);
    clearInterval(reader);
    clearInterval(pinger);
    expect(ok).toBe(true);
    expect(got).toBe(want);
    expect(slowClosed).toBe(false);
    expect(busy.closed).toBe(false);
    expect(busyOk).toBeGreaterThan(5);
    slow.destroy();
    busy.close();
  });

  it('timeout 0 keeps idle clients', async () => {
    const admin = await RawClient.connect(srv.port);
    expect(show(await admin.call('CONFIG', 'SET', 'timeout', '0'))).toBe('OK');
    admin.close();
    const idle = await RawClient.connect(srv.port);
    expect(await idle.waitClose(2500)).toBe(false);
    expect(show(await idle.call('PING'))).toBe('PONG');
    idle.close();
  });
});

describe('tcp-keepalive', () => {
  let srv: RunningServer;
  beforeAll(async () => { srv = await startKvslab(); });
  afterAll(async () => { await srv.stop(); });

  /** The server side's timer in /proc/net/tcp: [timer kind, seconds left] (kind 2 is keepalive). */
  function serverTimer(serverPort: number, peerPort: number): [number, number] | null {
    const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 6) continue;
      if (f[1].endsWith(`:${hex(serverPort)}`) && f[2].endsWith(`:${hex(peerPort)}`)) {
        const [kind, when] = f[5].split(':');
        // Clock ticks of USER_HZ (100 a second).
        return [parseInt(kind, 16), parseInt(when, 16) / 100];
      }
    }
    return null;
  }

  it('sets SO_KEEPALIVE with the configured interval on new connections; 0 turns it off', async () => {
    const a = await rawSocket(srv.port);
    await sleep(100);
    const t = serverTimer(srv.port, a.socket.localPort as number);
    expect(t?.[0]).toBe(2);
    expect(t?.[1]).toBeGreaterThan(250);
    expect(t?.[1]).toBeLessThanOrEqual(300);

    const admin = await RawClient.connect(srv.port);
    expect(show(await admin.call('CONFIG', 'SET', 'tcp-keepalive', '60'))).toBe('OK');
    const b = await rawSocket(srv.port);
    await sleep(100);
    const tb = serverTimer(srv.port, b.socket.localPort as number);
    expect(tb?.[0]).toBe(2);
    expect(tb?.[1]).toBeGreaterThan(30);
    expect(tb?.[1]).toBeLessThanOrEqual(60);

    expect(show(await admin.call('CONFIG', 'SET', 'tcp-keepalive', '0'))).toBe('OK');
    const c = await rawSocket(srv.port);
    await sleep(100);
    expect(serverTimer(srv.port, c.socket.localPort as number)?.[0]).toBe(0);
    for (const s of [a, b, c]) s.socket.destroy();
    admin.close();
  });
});

describe('client-output-buffer-limit', () => {
  let srv: RunningServer;
  const MID = 60_000;
  beforeAll(async () => {
    srv = await startKvslab(['--client-output-buffer-limit', 'normal', '4mb', '0', '0']);
    const r = srv.client();
    await r.set('mid', Buffer.alloc(MID, 0x6d));
    await r.set('big', Buffer.alloc(32 << 20, 0x62));
  });
  afterAll(async () => { await srv.stop(); });

  /** Sends `frames` from a client that never reads; resolves with the server's peak RSS growth and whether it was cut off. */
  async function unreadRequest(frames: Buffer): Promise<{ closed: boolean; growthMb: number }> {
    const pid = srv.proc.pid as number;
    const base = rssMb(pid);
    const s = await rawSocket(srv.port, { pause: true });
    s.socket.write(frames);
    let peak = base;
    const end = Date.now() + 3000;
    while (!s.closed && Date.now() < end) {
      peak = Math.max(peak, rssMb(pid));
      await sleep(20);
      // Reading resumes late, so a close is seen only once the server acted on its own.
      if (Date.now() > end - 1500) s.socket.resume();
    }
    peak = Math.max(peak, rssMb(pid));
    s.socket.destroy();
    return { closed: s.closed, growthMb: peak - base };
  }

  it('one MGET whose reply outgrows the hard limit is cut off without building it', async () => {
    const checker = startChecker(srv);
    // 2,000 x 60 KB: a 120 MB reply asked for in one command.
    const r = await unreadRequest(encodeCommand(['MGET', ...Array<string>(2000).fill('mid')]));
    checker.stop = true;
    await checker.done;
    expect(r.closed).toBe(true);
    expect(r.growthMb).toBeLessThan(40);
    expect(checker.wrong).toBe(0);
    expect(checker.errors).toBe(0);
    expect(checker.ops).toBeGreaterThan(0);
  });

  it('a pipeline of GETs whose replies pile up past the hard limit is cut off', async () => {
    const r = await unreadRequest(Buffer.concat(Array.from({ length: 3000 }, () => encodeCommand(['GET', 'mid']))));
    expect(r.closed).toBe(true);
    expect(r.growthMb).toBeLessThan(40);
  });

  it('replies sent as views of large values count too', async () => {
    const admin = srv.client();
    await admin.config('SET', 'client-output-buffer-limit', 'normal 100mb 0 0');
    const checker = startChecker(srv);
    const r = await unreadRequest(Buffer.concat(Array.from({ length: 50 }, () => encodeCommand(['GET', 'big']))));
    checker.stop = true;
    await checker.done;
    expect(r.closed).toBe(true);
    expect(r.growthMb).toBeLessThan(64);
    expect(checker.wrong).toBe(0);
    expect(checker.errors).toBe(0);
    // Under the limit, the same value is served whole.
    expect((await admin.getBuffer('big'))?.length).toBe(32 << 20);
    await admin.config('SET', 'client-output-buffer-limit', 'normal 4mb 0 0');
  });

  it('over the soft limit for soft-seconds: cut off at the next reply', async () => {
    const admin = srv.client();
    await admin.config('SET', 'client-output-buffer-limit', 'normal 0 1mb 1');
    const s = await rawSocket(srv.port, { pause: true });
    // 80 x 60 KB = 4.8 MB left unread: over the soft limit, for now allowed.
    s.socket.write(Buffer.concat(Array.from({ length: 80 }, () => encodeCommand(['GET', 'mid']))));
    await sleep(300);
    expect(s.closed).toBe(false);
    await sleep(1200);
    s.socket.write(encodeCommand(['PING']));
    s.socket.resume();
    expect(await until(() => s.closed, 3000)).toBe(true);
    // Read all along: never over for long, never cut off.
    const reader = await RawClient.connect(srv.port);
    for (let i = 0; i < 5; i++) {
      const replies = await reader.sendRaw(Buffer.concat(Array.from({ length: 40 }, () => encodeCommand(['GET', 'mid']))), 40);
      expect(replies.every((x) => Buffer.isBuffer(x) && x.length === MID)).toBe(true);
      await sleep(300);
    }
    reader.close();
    await admin.config('SET', 'client-output-buffer-limit', 'normal 4mb 0 0');
  });
});

describe('proto-max-bulk-len', () => {
  let srv: RunningServer;
  beforeAll(async () => { srv = await startKvslab(['--proto-max-bulk-len', '1mb']); });
  afterAll(async () => { await srv.stop(); });

  it('a bulk string of exactly the limit is accepted; one byte more is a protocol error before it is read', async () => {
    const ok = await RawClient.connect(srv.port);
    expect(show(await ok.call('SET', 'k', Buffer.alloc(1 << 20, 0x6b)))).toBe('OK');
    expect(show(await ok.call('STRLEN', 'k'))).toBe(1 << 20);
    ok.close();

    const pid = srv.proc.pid as number;
    const base = rssMb(pid);
    const s = await rawSocket(srv.port);
    // Only the header: the server must refuse without waiting for the bytes.
    s.socket.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${(1 << 20) + 1}\r\n`);
    expect(await until(() => s.closed, 3000)).toBe(true);
    expect(s.data.toString()).toBe('-ERR Protocol error: invalid bulk length\r\n');

    // A larger limit set at run time applies to the connections already open.
    const admin = await RawClient.connect(srv.port);
    expect(show(await admin.call('CONFIG', 'SET', 'proto-max-bulk-len', '2mb'))).toBe('OK');
    expect(show(await admin.call('SET', 'k2', Buffer.alloc((1 << 20) + 1, 0x6b)))).toBe('OK');
    expect(rssMb(pid) - base).toBeLessThan(32);
    admin.close();
  });
});

describe('CLIENT LIST buffer fields', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startKvslab();
    await srv.client().set('big', Buffer.alloc(8 << 20, 0x62));
  });
  afterAll(async () => { await srv.stop(); });

  it('has Redis 7.0 fields in Redis order, then lib-name and lib-ver', async () => {
    const redis = await startRedis();
    try {
      const names = (line: string) => line.trim().split(' ').map((kv) => kv.slice(0, kv.indexOf('=')));
      const r = await RawClient.connect(redis.port);
      const k = await RawClient.connect(srv.port);
      const redisFields = names(show(await r.call('CLIENT', 'INFO')) as string);
      const ours = names(show(await k.call('CLIENT', 'INFO')) as string);
      expect(ours).toEqual([...redisFields, 'lib-name', 'lib-ver']);
      // The caller's own argv: "client" + "info", as Redis counts it.
      expect(parseList(show(await k.call('CLIENT', 'INFO')) as string)[0].get('argv-mem')).toBe('10');
      r.close();
      k.close();
    } finally {
      await redis.stop();
    }
  });

  it('shows who holds memory: an unfinished request, an unread reply, a queued transaction', async () => {
    const admin = await RawClient.connect(srv.port);

    // Half of a 1 MB SET sent, the rest never comes.
    const half = await rawSocket(srv.port);
    const halfId = await idOf(half.socket);
    half.socket.write(Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nh\r\n$${1 << 20}\r\n`), Buffer.alloc(600_000, 0x68)]));
    // A client that asked for 8 MB and reads nothing.
    const unread = await rawSocket(srv.port, { pause: true });
    const unreadId = await idOf(unread.socket, true);
    unread.socket.write(encodeCommand(['GET', 'big']));
    // A transaction with a 100 KB value queued.
    const multi = await RawClient.connect(srv.port);
    const multiId = await multi.call('CLIENT', 'ID') as number;
    await multi.call('MULTI');
    expect(show(await multi.call('SET', 'm', Buffer.alloc(100_000, 0x6d)))).toBe('QUEUED');
    const idle = await RawClient.connect(srv.port);
    const idleId = await idle.call('CLIENT', 'ID') as number;
    await sleep(300);

    const h = await clientLine(admin, halfId);
    expect(Number(h.get('qbuf'))).toBeGreaterThanOrEqual(600_000);
    expect(Number(h.get('qbuf-free'))).toBeGreaterThanOrEqual(0);
    expect(Number(h.get('tot-mem'))).toBeGreaterThanOrEqual(Number(h.get('qbuf')) + Number(h.get('qbuf-free')));
    expect(h.get('omem')).toBe('0');

    const u = await clientLine(admin, unreadId);
    expect(Number(u.get('omem'))).toBeGreaterThan(1 << 20);
    expect(Number(u.get('oll'))).toBeGreaterThanOrEqual(1);
    expect(u.get('events')).toBe('rw');
    expect(Number(u.get('tot-mem'))).toBeGreaterThanOrEqual(Number(u.get('omem')));
    expect(u.get('qbuf')).toBe('0');

    const m = await clientLine(admin, multiId);
    expect(m.get('flags')).toBe('x');
    expect(m.get('multi')).toBe('1');
    expect(Number(m.get('multi-mem'))).toBeGreaterThanOrEqual(100_000);
    expect(Number(m.get('tot-mem'))).toBeGreaterThanOrEqual(100_000);

    const i = await clientLine(admin, idleId);
    for (const f of ['qbuf', 'argv-mem', 'multi-mem', 'obl', 'oll', 'omem']) expect(i.get(f), f).toBe('0');
    expect(i.get('events')).toBe('r');

    // The reader catches up: its output memory goes back to nothing.
    unread.socket.resume();
    await until(() => unread.received >= 8 << 20, 10_000);
    await sleep(200);
    const u2 = await clientLine(admin, unreadId);
    expect(u2.get('omem')).toBe('0');
    expect(u2.get('oll')).toBe('0');

    for (const c of [admin, multi, idle]) c.close();
    half.socket.destroy();
    unread.socket.destroy();
  });
});

/** CLIENT ID of a raw socket (before it is paused). */
async function idOf(s: net.Socket, pauseAfter = false): Promise<number> {
  s.resume();
  const reply = await new Promise<string>((res) => {
    let buf = '';
    const on = (d: Buffer) => {
      buf += d.toString();
      if (buf.endsWith('\r\n')) {
        s.off('data', on);
        res(buf);
      }
    };
    s.on('data', on);
    s.write(encodeCommand(['CLIENT', 'ID']));
  });
  if (pauseAfter) s.pause();
  return Number(reply.slice(1, -2));
}
