// ACL users end to end: a tenant declared by `user` lines in a config file
// reaches only its keys and cannot run dangerous commands, through ioredis
// and redis-cli; requirepass and the default user; the ACL file's LOAD/SAVE
// round trip (and a restart from the saved file); connections closed when
// their user goes; start-up refused for bad user lines, a bad ACL file, or
// both at once; the ACL log's length limit.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, RunningServer, startKvslab } from '../helpers/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'kvslab-acl-'));

/** redis-cli's output (stdout and stderr), never throwing on its exit code. */
function cli(port: number, args: string[]): string {
  const r = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.replace(/^Warning: Using a password.*\n/m, '').trim();
}

/** Runs the daemon expecting it to refuse to start; returns what it printed. */
function failedStart(args: string[]): string {
  const r = spawnSync(join(ROOT, 'bin', 'kvslab-server'), [...args, '--port', '0', '--bind', '127.0.0.1'], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status).toBe(1);
  return `${r.stdout}${r.stderr}`;
}

describe('a tenant declared in the config file', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    const conf = join(dir, 'tenants.conf');
    writeFileSync(conf, [
      '# two tenants, each on its own key prefix',
      'user tenant1 on >pw ~tenant1:* +@read +@write -@dangerous',
      'user tenant2 on >pw2 ~tenant2:* +@read +@write +@transaction +@connection -@dangerous',
      'user default on >adminpw ~* &* +@all',
      '',
    ].join('\n'));
    srv = await startKvslab([conf, '--user', 'viewer', 'on', '>v', '%R~*', '+@read']);
  });
  afterAll(async () => { await srv.stop(); });

  it('through ioredis: its own keys only, no FLUSHALL, no KEYS', async () => {
    const t1 = srv.client({ username: 'tenant1', password: 'pw' });
    expect(await t1.set('tenant1:a', 'one')).toBe('OK');
    expect(await t1.get('tenant1:a')).toBe('one');
    expect(await t1.incr('tenant1:n')).toBe(1);
    await expect(t1.get('tenant2:a')).rejects.toThrow('NOPERM this user has no permissions to access one of the keys used as arguments');
    await expect(t1.set('tenant2:a', 'x')).rejects.toThrow(/NOPERM .* keys used as arguments/);
    await expect(t1.mget('tenant1:a', 'tenant2:a')).rejects.toThrow(/NOPERM/);
    await expect(t1.flushall()).rejects.toThrow("NOPERM this user has no permissions to run the 'flushall' command");
    await expect(t1.keys('*')).rejects.toThrow("NOPERM this user has no permissions to run the 'keys' command");
    await expect(t1.call('CONFIG', 'GET', 'maxmemory')).rejects.toThrow("NOPERM this user has no permissions to run the 'config|get' command");
    // MULTI is @transaction, PING @connection: neither is @read or @write.
    await expect(t1.call('MULTI')).rejects.toThrow("NOPERM this user has no permissions to run the 'multi' command");
    await expect(t1.ping()).rejects.toThrow("NOPERM this user has no permissions to run the 'ping' command");

    const t2 = srv.client({ username: 'tenant2', password: 'pw2' });
    expect(await t2.set('tenant2:a', 'two')).toBe('OK');
    await expect(t2.get('tenant1:a')).rejects.toThrow(/NOPERM/);
    // A denied command inside MULTI is refused when queued, and EXEC aborts.
    await expect(t2.multi().set('tenant2:m', '1').get('tenant1:m').exec()).rejects.toThrow(/EXECABORT/);
    expect(await t2.exists('tenant2:m')).toBe(0);
    const [[err, ok]] = (await t2.multi().set('tenant2:m', '2').exec()) as [Error | null, unknown][];
    expect([err, ok]).toEqual([null, 'OK']);

    const viewer = srv.client({ username: 'viewer', password: 'v' });
    expect(await viewer.get('tenant1:a')).toBe('one');
    await expect(viewer.set('tenant1:a', 'x')).rejects.toThrow(/NOPERM/);

    const admin = srv.client({ password: 'adminpw' });
    expect(await admin.get('tenant2:a')).toBe('two');
    expect(await admin.call('ACL', 'USERS')).toEqual(['default', 'tenant1', 'tenant2', 'viewer']);
    const clients = String(await admin.call('CLIENT', 'LIST'));
    for (const u of ['tenant1', 'tenant2', 'viewer', 'default']) expect(clients).toContain(` user=${u} `);
  });

  it('through ioredis: a wrong password and no password are refused', async () => {
    const bad = new Redis({ port: srv.port, host: '127.0.0.1', username: 'tenant1', password: 'nope', maxRetriesPerRequest: 0, retryStrategy: () => null });
    const err = await new Promise<Error>((r) => bad.once('error', r));
    expect(err.message).toBe('WRONGPASS invalid username-password pair or user is disabled.');
    bad.disconnect();
    const anon = srv.client({ enableReadyCheck: false });
    await expect(anon.get('tenant1:a')).rejects.toThrow('NOAUTH Authentication required.');
  });

  it('through redis-cli --user/--pass and -a', () => {
    const as1 = ['--user', 'tenant1', '--pass', 'pw'];
    expect(cli(srv.port, [...as1, 'SET', 'tenant1:cli', 'v'])).toBe('OK');
    expect(cli(srv.port, [...as1, 'GET', 'tenant1:cli'])).toBe('v');
    expect(cli(srv.port, [...as1, 'GET', 'tenant2:a'])).toBe('NOPERM this user has no permissions to access one of the keys used as arguments');
    expect(cli(srv.port, [...as1, 'FLUSHALL'])).toBe("NOPERM this user has no permissions to run the 'flushall' command");
    expect(cli(srv.port, ['--user', 'tenant1', '--pass', 'bad', 'PING'])).toContain('WRONGPASS invalid username-password pair or user is disabled.');
    expect(cli(srv.port, ['-a', 'adminpw', 'ACL', 'WHOAMI'])).toBe('default');
    expect(cli(srv.port, ['-a', 'adminpw', 'GET', 'tenant1:cli'])).toBe('v');
    expect(cli(srv.port, ['GET', 'tenant1:cli'])).toBe('NOAUTH Authentication required.');
    // The refusals are in the log, newest first.
    const log = cli(srv.port, ['-a', 'adminpw', 'ACL', 'LOG', '3']).split('\n');
    expect(log.slice(0, 12)).toEqual(['count', '1', 'reason', 'auth', 'context', 'toplevel', 'object', 'AUTH', 'username', 'tenant1', 'age-seconds', expect.stringMatching(/^\d/)]);
    expect(log).toContain('flushall');
    expect(log).toContain('tenant2:a');
  });

  it('CLIENT KILL USER closes that user\'s connections only', async () => {
    const victim = srv.client({ username: 'tenant2', password: 'pw2' });
    const bystander = srv.client({ username: 'tenant1', password: 'pw' });
    expect(await victim.get('tenant2:a')).toBe('two');
    expect(await bystander.get('tenant1:a')).toBe('one');
    const closed = new Promise<void>((r) => victim.once('close', () => r()));
    const admin = srv.client({ password: 'adminpw' });
    expect(await admin.call('CLIENT', 'KILL', 'USER', 'tenant2')).toBeGreaterThanOrEqual(1);
    await closed;
    expect(await bystander.get('tenant1:a')).toBe('one');
  });
});

describe('requirepass and the default user', () => {
  let srv: RunningServer;
  beforeAll(async () => { srv = await startKvslab(['--requirepass', 'first']); });
  afterAll(async () => { await srv.stop(); });

  it('is the default user\'s password, and follows CONFIG SET', async () => {
    const admin = srv.client({ password: 'first' });
    expect(await admin.call('ACL', 'LIST')).toEqual([`user default on #${sha256('first')} ~* &* +@all`]);
    expect(await admin.call('CONFIG', 'SET', 'requirepass', 'second')).toBe('OK');
    // Already authenticated connections stay so; new ones need the new password.
    expect(await admin.ping()).toBe('PONG');
    expect(cli(srv.port, ['-a', 'first', 'PING'])).toContain('WRONGPASS');
    expect(cli(srv.port, ['-a', 'second', 'PING'])).toBe('PONG');
    // A connection waiting for AUTH is let in once the default user needs no password.
    const waiting = srv.client({ enableReadyCheck: false });
    await expect(waiting.get('k')).rejects.toThrow('NOAUTH');
    expect(await admin.call('CONFIG', 'SET', 'requirepass', '')).toBe('OK');
    expect(await waiting.get('k')).toBe(null);
    expect(await admin.call('ACL', 'LIST')).toEqual(['user default on nopass ~* &* +@all']);
    // Restricting the default user restricts every connection that has not authenticated as another.
    expect(await admin.call('ACL', 'SETUSER', 'default', '-flushall')).toBe('OK');
    await expect(waiting.flushall()).rejects.toThrow("NOPERM this user has no permissions to run the 'flushall' command");
    expect(await admin.call('ACL', 'SETUSER', 'default', '+@all')).toBe('OK');
    expect(await waiting.flushall()).toBe('OK');
  });

  it('the ACL log keeps at most acllog-max-len entries', async () => {
    const admin = srv.client();
    expect(await admin.call('CONFIG', 'GET', 'acllog-max-len')).toEqual(['acllog-max-len', '128']);
    expect(await admin.call('CONFIG', 'SET', 'acllog-max-len', '2')).toBe('OK');
    expect(await admin.call('ACL', 'LOG', 'RESET')).toBe('OK');
    for (const u of ['u1', 'u2', 'u3']) await expect(admin.call('AUTH', u, 'x')).rejects.toThrow('WRONGPASS');
    const log = (await admin.call('ACL', 'LOG')) as unknown[][];
    expect(log.map((e) => e[9])).toEqual(['u3', 'u2']);
    // Ids and times let a reader follow entries (Redis 7.2's fields).
    expect(log[0][15]).toBe(log[1][15] as number + 1);
    expect(Math.abs((log[0][17] as number) - Date.now())).toBeLessThan(60_000);
  });
});

function sha256(s: string): string {
  return execFileSync('sha256sum', { input: s, encoding: 'utf8' }).split(' ')[0];
}

describe('the ACL file', () => {
  const aclfile = join(dir, 'users.acl');
  let srv: RunningServer;
  beforeAll(async () => {
    writeFileSync(aclfile, `user default on nopass ~* &* +@all\nuser alice on #${sha256('apw')} ~alice:* resetchannels -@all +get +set\n`);
    srv = await startKvslab(['--aclfile', aclfile]);
  });
  afterAll(async () => { await srv.stop(); });

  it('is loaded at start, saved by ACL SAVE, reloaded by ACL LOAD', async () => {
    const admin = srv.client();
    expect(await admin.call('CONFIG', 'GET', 'aclfile')).toEqual(['aclfile', aclfile]);
    const alice = srv.client({ username: 'alice', password: 'apw' });
    expect(await alice.set('alice:1', 'x')).toBe('OK');

    expect(await admin.call('ACL', 'SETUSER', 'bob', 'on', '>bpw', '%R~shared:*', '+@read')).toBe('OK');
    expect(await admin.call('ACL', 'SAVE')).toBe('OK');
    const saved = readFileSync(aclfile, 'utf8');
    expect(saved).toBe([
      `user alice on #${sha256('apw')} ~alice:* resetchannels -@all +get +set`,
      `user bob on #${sha256('bpw')} %R~shared:* resetchannels -@all +@read`,
      'user default on nopass ~* &* +@all',
      '',
    ].join('\n'));

    // A file with errors changes nothing and says why, line by line.
    writeFileSync(aclfile, `${saved}# a comment\nuser carol on +nosuch ~x\n`);
    await expect(admin.call('ACL', 'LOAD')).rejects.toThrow(
      `${aclfile}:4 should start with user keyword followed by the username. ${aclfile}:5: Error in applying operation '+nosuch': Unknown command or category name in ACL. WARNING: ACL errors detected, no change to the previously active ACL rules was performed`,
    );
    expect(await alice.get('alice:1')).toBe('x');

    // Edited by hand: bob gone, carol added. Connections of the old users are closed.
    writeFileSync(aclfile, `user alice on >apw ~alice:* +get\nuser carol on >cpw ~c:* +@all\n`);
    const aliceClosed = new Promise<void>((r) => alice.once('close', () => r()));
    expect(await admin.call('ACL', 'LOAD')).toBe('OK');
    await aliceClosed;
    expect(await admin.call('ACL', 'USERS')).toEqual(['alice', 'carol', 'default']);
    // The default user was not in the file: it is back to its defaults.
    expect(await admin.call('ACL', 'GETUSER', 'default')).toEqual(['flags', ['on', 'nopass'], 'passwords', [], 'commands', '+@all', 'keys', '~*', 'channels', '&*', 'selectors', []]);
    expect(cli(srv.port, ['--user', 'carol', '--pass', 'cpw', 'SET', 'c:1', 'v'])).toBe('OK');
    expect(cli(srv.port, ['--user', 'alice', '--pass', 'apw', 'SET', 'alice:2', 'v'])).toBe("NOPERM this user has no permissions to run the 'set' command");
    expect(await admin.call('ACL', 'SAVE')).toBe('OK');
  });

  it('a restart from the saved file has the same users', async () => {
    const before = await srv.client().call('ACL', 'LIST');
    const again = await startKvslab(['--aclfile', aclfile]);
    try {
      expect(await again.client().call('ACL', 'LIST')).toEqual(before);
    } finally {
      await again.stop();
    }
  });
});

describe('users in the config file and CONFIG REWRITE', () => {
  it('rewrites the user lines from the current users, and a restart has them', async () => {
    const conf = join(dir, 'rewrite.conf');
    writeFileSync(conf, '# users\nuser alice on >apw ~a:* +get\n# after the users\nuser zoe on >z ~z:* +@read\n');
    const srv = await startKvslab([conf]);
    let list: unknown;
    try {
      const admin = srv.client();
      expect(await admin.call('ACL', 'SETUSER', 'bob', 'on', '>bpw', '~b:*', '+@write')).toBe('OK');
      expect(await admin.call('ACL', 'DELUSER', 'zoe')).toBe(1);
      expect(await admin.call('CONFIG', 'REWRITE')).toBe('OK');
      list = await admin.call('ACL', 'LIST');
    } finally {
      await srv.stop();
    }
    const text = readFileSync(conf, 'utf8');
    expect(text.split('\n').slice(0, 5)).toEqual([
      '# users',
      `user alice on #${sha256('apw')} ~a:* resetchannels -@all +get`,
      `user bob on #${sha256('bpw')} ~b:* resetchannels -@all +@write`,
      'user default on nopass ~* &* +@all',
      '# after the users',
    ]);
    expect(text).not.toContain('zoe');
    const again = await startKvslab([conf]);
    try {
      // A `user default` line resets the default user first, which (as in Redis) turns sanitize-payload on.
      const expected = (list as string[]).map((l) => l.replace('user default on nopass ', 'user default on nopass sanitize-payload '));
      expect(await again.client().call('ACL', 'LIST')).toEqual(expected);
    } finally {
      await again.stop();
    }
  });
});

describe('start-up refuses bad ACL configuration', () => {
  it('a user line with a bad rule, naming the file and line', () => {
    const conf = join(dir, 'bad-rule.conf');
    writeFileSync(conf, 'port 0\nuser alice on foo\n');
    const out = failedStart([conf]);
    expect(out).toContain(`Reading the configuration file ${conf}, at line 2`);
    expect(out).toContain(">>> 'user alice on foo'");
    expect(out).toContain("Error in user declaration 'alice': Syntax error");
  });

  it('a user declared twice, or an unknown command', () => {
    const twice = join(dir, 'twice.conf');
    writeFileSync(twice, 'user alice on\nuser alice off\n');
    expect(failedStart([twice])).toContain("Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files");
    const unknown = join(dir, 'unknown.conf');
    writeFileSync(unknown, 'user alice on >x +nosuch\n');
    expect(failedStart([unknown])).toContain("Error loading ACL rule '+nosuch' for the user named 'alice': Unknown command or category name in ACL");
  });

  it('user lines and an aclfile together', () => {
    const conf = join(dir, 'both.conf');
    writeFileSync(conf, `user alice on\naclfile ${join(dir, 'users.acl')}\n`);
    expect(failedStart([conf])).toContain('an ACL file path is invalid');
  });

  it('an ACL file that is missing or has errors', () => {
    expect(failedStart(['--aclfile', join(dir, 'missing.acl')])).toContain(`Aborting kvslab startup because of ACL errors: Error loading ACLs, opening file '${join(dir, 'missing.acl')}': No such file or directory`);
    const bad = join(dir, 'bad.acl');
    writeFileSync(bad, 'user a on\nuser b on +nosuch\n');
    expect(failedStart(['--aclfile', bad])).toContain(`${bad}:2: Error in applying operation '+nosuch'`);
  });
});
