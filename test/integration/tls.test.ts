// TLS: tls-port served by the same client code as TCP, with redis-cli --tls
// and ioredis; mutual TLS (tls-auth-clients yes/optional/no); tls-protocols;
// reloading the tls-* files and moving tls-port at run time; Redis's errors.
// Throwaway certificates are made with the openssl CLI.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { Redis } from 'ioredis';
import { freePort, logged, redisCli, ROOT, startKvslab, startRedis, RunningServer, kvslabAndRedis } from '../helpers/servers.js';

const BIN = join(ROOT, 'bin', 'kvslab-server');
let dir: string;
const f = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, and a certificate it signs (EC keys: quick to make). */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
}

function makeCert(name: string, ca: string, ext: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
    '-subj', `/CN=${name}`);
  writeFileSync(f(`${name}.ext`), ext);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`,
    '-days', '2', '-extfile', `${name}.ext`);
}

const SERVER_EXT = 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kvslab-tls-'));
  makeCa('ca');
  makeCert('server', 'ca', SERVER_EXT);
  makeCert('client', 'ca', CLIENT_EXT);
  // Another CA nobody trusts, with a client and a server certificate of its own.
  makeCa('rogue');
  makeCert('rogueclient', 'rogue', CLIENT_EXT);
  makeCert('rogueserver', 'rogue', SERVER_EXT);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const serverTls = () => ['--tls-cert-file', f('server.crt'), '--tls-key-file', f('server.key'), '--tls-ca-cert-file', f('ca.crt')];

/** redis-cli over TLS; `cert` names the client certificate to show (none: no client certificate). */
function tlsCli(port: number, args: string[], opts: { cert?: string; cacert?: string } = {}): { ok: boolean; out: string } {
  const certArgs = opts.cert ? ['--cert', f(`${opts.cert}.crt`), '--key', f(`${opts.cert}.key`)] : [];
  const r = spawnSync('redis-cli', ['--tls', '--cacert', f(`${opts.cacert ?? 'ca'}.crt`), ...certArgs, '-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0 && !/^Error|Could not connect/m.test(r.stdout + r.stderr), out: r.stdout.trim() };
}

/** One TLS handshake with node:tls; resolves with the protocol agreed, or the error's text. */
function handshake(port: number, opts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', ca: readFileSync(f('ca.crt')), cert: readFileSync(f('client.crt')), key: readFileSync(f('client.key')), ...opts });
    s.once('secureConnect', () => {
      // The server may still refuse after the handshake: a PING must come back.
      s.write('PING\r\n');
      s.once('data', (d) => { resolve(d.toString() === '+PONG\r\n' ? (s.getProtocol() ?? '') : `reply ${d}`); s.destroy(); });
    });
    s.once('error', (e) => resolve(`error ${e.message}`));
    s.once('close', () => resolve('closed'));
  });
}

describe('TLS with client certificates (tls-auth-clients yes)', () => {
  let kv: RunningServer;
  let tlsPort: number;
  beforeAll(async () => {
    tlsPort = await freePort();
    kv = await startKvslab(['--tls-port', String(tlsPort), ...serverTls()]);
  });
  afterAll(async () => {
    await kv.stop();
  });

  it('redis-cli --tls with a client certificate is served; the same data as the plain port', async () => {
    expect(await logged(kv, 'Ready to accept connections tls')).toContain('Ready to accept connections tls');
    expect(tlsCli(tlsPort, ['set', 'greeting', 'hello'], { cert: 'client' })).toEqual({ ok: true, out: 'OK' });
    expect(redisCli(kv.port, ['get', 'greeting'])).toBe('hello\n');
    expect(tlsCli(tlsPort, ['client', 'info'], { cert: 'client' }).out).toMatch(new RegExp(`laddr=127\\.0\\.0\\.1:${tlsPort} `));
  });

  it('ioredis with tls: {...}: commands, pipelines, large values, transactions', async () => {
    const c = new Redis({
      port: tlsPort, host: '127.0.0.1', maxRetriesPerRequest: 0,
      tls: { ca: readFileSync(f('ca.crt')), cert: readFileSync(f('client.crt')), key: readFileSync(f('client.key')), servername: 'localhost' },
    });
    try {
      expect(await c.ping()).toBe('PONG');
      const p = c.pipeline();
      for (let i = 0; i < 1000; i++) p.incr('counter');
      const res = await p.exec();
      expect(res?.at(-1)).toEqual([null, 1000]);
      const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'x');
      big.write('head', 0);
      await c.set('big', big);
      expect((await c.getBuffer('big'))?.equals(big)).toBe(true);
      expect(await c.multi().set('a', '1').incr('a').get('a').exec()).toEqual([[null, 'OK'], [null, 2], [null, '2']]);
    } finally {
      c.disconnect();
    }
  });

  it('refuses a client without a certificate, or with one from another CA', async () => {
    expect(tlsCli(tlsPort, ['ping']).ok).toBe(false);
    expect(tlsCli(tlsPort, ['ping'], { cert: 'rogueclient' }).ok).toBe(false);
    expect(await handshake(tlsPort, { cert: undefined, key: undefined })).not.toMatch(/^TLSv/);
    expect(await handshake(tlsPort, {})).toMatch(/^TLSv1\.[23]$/);
    const certMissing = /# Error accepting a client connection: error:[0-9A-F]+:SSL routines::peer did not return a certificate/;
    expect(await logged(kv, certMissing)).toMatch(certMissing);
  });

  it('CONFIG SET tls-auth-clients optional and no apply to new connections', async () => {
    redisCli(kv.port, ['config', 'set', 'tls-auth-clients', 'optional']);
    expect(tlsCli(tlsPort, ['ping'])).toEqual({ ok: true, out: 'PONG' });
    expect(tlsCli(tlsPort, ['ping'], { cert: 'client' })).toEqual({ ok: true, out: 'PONG' });
    // Optional, but a certificate shown must verify.
    expect(tlsCli(tlsPort, ['ping'], { cert: 'rogueclient' }).ok).toBe(false);
    redisCli(kv.port, ['config', 'set', 'tls-auth-clients', 'no']);
    expect(tlsCli(tlsPort, ['ping'])).toEqual({ ok: true, out: 'PONG' });
    redisCli(kv.port, ['config', 'set', 'tls-auth-clients', 'yes']);
    expect(tlsCli(tlsPort, ['ping']).ok).toBe(false);
  });

  it('tls-protocols limits the versions; a bad list is refused and changes nothing', async () => {
    expect(redisCli(kv.port, ['config', 'set', 'tls-protocols', 'TLSv1.3'])).toBe('OK\n');
    expect(await handshake(tlsPort, {})).toBe('TLSv1.3');
    expect(await handshake(tlsPort, { maxVersion: 'TLSv1.2' })).toMatch(/^error/);
    expect(redisCli(kv.port, ['config', 'set', 'tls-protocols', 'tlsv1.2'])).toBe('OK\n');
    expect(await handshake(tlsPort, {})).toBe('TLSv1.2');
    expect(await handshake(tlsPort, { minVersion: 'TLSv1.3' })).toMatch(/^error/);
    const bad = redisCli(kv.port, ['config', 'set', 'tls-protocols', 'TLSv1.2 SSLv3']).trim();
    expect(bad).toBe("ERR CONFIG SET failed (possibly related to argument 'tls-protocols') - Unable to update TLS configuration. Check server logs.");
    const why = "# Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.";
    expect(await logged(kv, why)).toContain(why);
    expect(redisCli(kv.port, ['config', 'get', 'tls-protocols'])).toBe('tls-protocols\ntlsv1.2\n');
    expect(redisCli(kv.port, ['config', 'set', 'tls-protocols', ''])).toBe('OK\n');
    expect(await handshake(tlsPort, {})).toBe('TLSv1.3');
  });

  it('a new certificate file is read at CONFIG SET; a bad one is refused', async () => {
    const bad = redisCli(kv.port, ['config', 'set', 'tls-key-file', f('client.key')]).trim();
    expect(bad).toBe("ERR CONFIG SET failed (possibly related to argument 'tls-key-file') - Unable to update TLS configuration. Check server logs.");
    const why = `# Failed to load private key: ${f('client.key')}: error:05800074:x509 certificate routines::key values mismatch`;
    expect(await logged(kv, why)).toContain(why);
    expect(tlsCli(tlsPort, ['ping'], { cert: 'client' })).toEqual({ ok: true, out: 'PONG' });
    // Both files in one CONFIG SET: the server now shows the rogue CA's certificate.
    expect(redisCli(kv.port, ['config', 'set', 'tls-cert-file', f('rogueserver.crt'), 'tls-key-file', f('rogueserver.key')])).toBe('OK\n');
    expect(tlsCli(tlsPort, ['ping'], { cert: 'client' }).ok).toBe(false);
    expect(tlsCli(tlsPort, ['ping'], { cert: 'client', cacert: 'rogue' })).toEqual({ ok: true, out: 'PONG' });
    expect(redisCli(kv.port, ['config', 'set', 'tls-cert-file', f('server.crt'), 'tls-key-file', f('server.key')])).toBe('OK\n');
    expect(tlsCli(tlsPort, ['ping'], { cert: 'client' })).toEqual({ ok: true, out: 'PONG' });
  });

  it('CONFIG SET tls-port moves the TLS listener; 0 closes it', async () => {
    const next = await freePort();
    expect(redisCli(kv.port, ['config', 'set', 'tls-port', String(next)])).toBe('OK\n');
    expect(tlsCli(next, ['ping'], { cert: 'client' })).toEqual({ ok: true, out: 'PONG' });
    expect(tlsCli(tlsPort, ['ping'], { cert: 'client' }).ok).toBe(false);
    expect(redisCli(kv.port, ['config', 'set', 'tls-port', '0'])).toBe('OK\n');
    expect(tlsCli(next, ['ping'], { cert: 'client' }).ok).toBe(false);
    expect(redisCli(kv.port, ['config', 'set', 'tls-port', String(tlsPort)])).toBe('OK\n');
    expect(tlsCli(tlsPort, ['ping'], { cert: 'client' })).toEqual({ ok: true, out: 'PONG' });
  });
});

describe('other tls-* directives', () => {
  it('an encrypted key with tls-key-file-pass, client CAs from tls-ca-cert-dir', async () => {
    openssl('pkcs8', '-topk8', '-in', 'server.key', '-out', 'server-enc.key', '-passout', 'pass:sekret');
    const caDir = f('cas');
    mkdirSync(caDir);
    writeFileSync(join(caDir, 'ours.pem'), readFileSync(f('ca.crt')));
    writeFileSync(join(caDir, 'README'), 'not a certificate');
    const tlsPort = await freePort();
    const kv = await startKvslab(['--tls-port', String(tlsPort), '--tls-cert-file', f('server.crt'), '--tls-key-file', f('server-enc.key'),
      '--tls-key-file-pass', 'sekret', '--tls-ca-cert-dir', caDir]);
    try {
      expect(tlsCli(tlsPort, ['ping'], { cert: 'client' })).toEqual({ ok: true, out: 'PONG' });
      expect(tlsCli(tlsPort, ['ping'], { cert: 'rogueclient' }).ok).toBe(false);
      const bad = redisCli(kv.port, ['config', 'set', 'tls-key-file-pass', 'wrong']).trim();
      expect(bad).toBe("ERR CONFIG SET failed (possibly related to argument 'tls-key-file-pass') - Unable to update TLS configuration. Check server logs.");
      expect(redisCli(kv.port, ['config', 'get', 'tls-key-file-pass'])).toBe('tls-key-file-pass\nsekret\n');
      expect(tlsCli(tlsPort, ['ping'], { cert: 'client' })).toEqual({ ok: true, out: 'PONG' });
    } finally {
      await kv.stop();
    }
  });
});

describe('as Redis does it', () => {
  const pair = kvslabAndRedis();

  it('CONFIG GET tls-* defaults and CONFIG SET errors are Redis\'s', () => {
    for (const name of ['tls-port', 'tls-cert-file', 'tls-key-file', 'tls-key-file-pass', 'tls-ca-cert-file', 'tls-ca-cert-dir', 'tls-dh-params-file',
      'tls-auth-clients', 'tls-protocols', 'tls-ciphers', 'tls-ciphersuites', 'tls-prefer-server-ciphers', 'tls-session-caching',
      'tls-session-cache-size', 'tls-session-cache-timeout']) {
      expect(redisCli(pair.kv.port, ['config', 'get', name])).toBe(redisCli(pair.redis.port, ['config', 'get', name]));
    }
    // Without certificates, TLS cannot start; the tls-* files alone are not checked while TLS is off.
    const port = String(65000);
    for (const args of [['tls-port', port], ['tls-auth-clients', 'maybe'], ['tls-port', '70000'], ['tls-cert-file', '/nonexistent']]) {
      expect({ args, reply: redisCli(pair.kv.port, ['config', 'set', ...args]) }).toEqual({ args, reply: redisCli(pair.redis.port, ['config', 'set', ...args]) });
    }
  });

  it('a TLS start-up without a certificate, or with a key that does not match, fails with Redis\'s lines', async () => {
    const port = await freePort();
    const cases = [
      [],
      ['--tls-cert-file', f('server.crt'), '--tls-key-file', f('client.key'), '--tls-ca-cert-file', f('ca.crt')],
      ['--tls-cert-file', f('server.crt'), '--tls-key-file', f('server.key')],
    ];
    for (const extra of cases) {
      const args = ['--port', '0', '--tls-port', String(port), ...extra];
      const lines = (out: string) => out.split('\n').filter(Boolean).slice(-2).map((l) => l.replace(/^\d+:[MC] .{24} . /, ''));
      const k = spawnSync(BIN, args, { encoding: 'utf8', timeout: 20_000 });
      const r = spawnSync('redis-server', [...args, '--save', ''], { encoding: 'utf8', timeout: 20_000 });
      expect({ extra, status: k.status, lines: lines(k.stdout) }).toEqual({ extra, status: 1, lines: lines(r.stdout) });
    }
  });

  it('TLS only (port 0 with tls-port): no plain TCP listener', async () => {
    const port = await freePort();
    const proc = spawn(BIN, ['--port', '0', '--bind', '127.0.0.1', '--tls-port', String(port), ...serverTls()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    try {
      const end = Date.now() + 20_000;
      while (!out.includes('Ready to accept connections') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('Ready to accept connections tls');
      expect(out).not.toContain('Ready to accept connections tcp');
      expect(tlsCli(port, ['info', 'server'], { cert: 'client' }).out).toContain('tcp_port:0');
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
