// CLIENT subcommands against a real kvslab process: identity, listing,
// killing connections (they really close), SETINFO, NO-EVICT and REPLY.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKvslab, redisCli, RunningServer } from '../helpers/servers.js';
import { parseClientList as parseList } from '../helpers/info.js';
import { RawClient, show } from '../helpers/raw-client.js';

let srv: RunningServer;
beforeAll(async () => { srv = await startKvslab(); });
afterAll(async () => { await srv.stop(); });


async function text(c: RawClient, ...argv: string[]): Promise<string> {
  return show(await c.call(...argv)) as string;
}

describe('CLIENT identity', () => {
  it('ID, SETNAME, GETNAME', async () => {
    const c = await RawClient.connect(srv.port);
    const id = await c.call('CLIENT', 'ID');
    expect(typeof id).toBe('number');
    expect(await c.call('CLIENT', 'GETNAME')).toBeNull();
    expect(await text(c, 'CLIENT', 'SETNAME', 'worker-1')).toBe('OK');
    expect(await text(c, 'CLIENT', 'GETNAME')).toBe('worker-1');
    expect(await c.call('CLIENT', 'SETNAME', 'a b')).toEqual({ error: 'ERR Client names cannot contain spaces, newlines or special characters.' });
    expect(await c.call('CLIENT', 'SETNAME', 'caf\u00e9')).toEqual({ error: 'ERR Client names cannot contain spaces, newlines or special characters.' });
    expect(await text(c, 'CLIENT', 'GETNAME')).toBe('worker-1');
    // An empty name clears it.
    expect(await text(c, 'CLIENT', 'SETNAME', '')).toBe('OK');
    expect(await c.call('CLIENT', 'GETNAME')).toBeNull();
    c.close();
  });

  it('ioredis connectionName shows in CLIENT LIST', async () => {
    const r = srv.client({ connectionName: 'ioredis-conn' });
    expect(await r.call('CLIENT', 'GETNAME')).toBe('ioredis-conn');
    const list = parseList(await r.call('CLIENT', 'LIST') as string);
    expect(list.some((l) => l.get('name') === 'ioredis-conn')).toBe(true);
  });

  it('SETINFO records lib-name and lib-ver (Redis 7.2)', async () => {
    const c = await RawClient.connect(srv.port);
    expect(await text(c, 'CLIENT', 'SETINFO', 'LIB-NAME', 'mylib')).toBe('OK');
    expect(await text(c, 'CLIENT', 'SETINFO', 'lib-ver', '1.2.3')).toBe('OK');
    const info = parseList(await text(c, 'CLIENT', 'INFO'))[0];
    expect(info.get('lib-name')).toBe('mylib');
    expect(info.get('lib-ver')).toBe('1.2.3');
    expect(await c.call('CLIENT', 'SETINFO', 'lib-foo', 'x')).toEqual({ error: "ERR Unrecognized option 'lib-foo'" });
    expect(await c.call('CLIENT', 'SETINFO', 'LIB-NAME', 'a b')).toEqual({ error: 'ERR LIB-NAME cannot contain spaces, newlines or special characters.' });
    expect(await c.call('CLIENT', 'SETINFO', 'lib-name')).toEqual({ error: "ERR wrong number of arguments for 'client|setinfo' command" });
    c.close();
  });
});

describe('CLIENT LIST / INFO', () => {
  it('lists every connection with Redis fields; INFO describes the caller', async () => {
    const a = await RawClient.connect(srv.port);
    const b = await RawClient.connect(srv.port);
    await a.call('CLIENT', 'SETNAME', 'list-a');
    await b.call('SELECT', '2');
    const ida = await a.call('CLIENT', 'ID') as number;
    const idb = await b.call('CLIENT', 'ID') as number;
    const list = parseList(await text(a, 'CLIENT', 'LIST'));
    const la = list.find((l) => l.get('id') === String(ida));
    const lb = list.find((l) => l.get('id') === String(idb));
    expect(la?.get('name')).toBe('list-a');
    expect(la?.get('cmd')).toBe('client|list');
    expect(lb?.get('db')).toBe('2');
    for (const f of ['id', 'addr', 'laddr', 'fd', 'name', 'age', 'idle', 'flags', 'db', 'sub', 'psub', 'multi', 'qbuf', 'obl', 'omem', 'tot-mem', 'cmd', 'user', 'resp']) {
      expect(la?.has(f), f).toBe(true);
    }
    const ids = list.map((l) => Number(l.get('id')));
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);

    const info = parseList(await text(b, 'CLIENT', 'INFO'));
    expect(info).toHaveLength(1);
    expect(info[0].get('id')).toBe(String(idb));
    expect(info[0].get('cmd')).toBe('client|info');

    const byId = parseList(await text(a, 'CLIENT', 'LIST', 'ID', String(idb), '999999'));
    expect(byId.map((l) => l.get('id'))).toEqual([String(idb)]);
    expect(parseList(await text(a, 'CLIENT', 'LIST', 'TYPE', 'normal')).length).toBe(list.length);
    expect(await text(a, 'CLIENT', 'LIST', 'TYPE', 'pubsub')).toBe('');
    expect(await a.call('CLIENT', 'LIST', 'TYPE', 'foo')).toEqual({ error: "ERR Unknown client type 'foo'" });
    expect(await a.call('CLIENT', 'LIST', 'ID', 'x')).toEqual({ error: 'ERR Invalid client ID' });
    expect(await a.call('CLIENT', 'LIST', 'FOO')).toEqual({ error: 'ERR syntax error' });
    a.close();
    b.close();
  });

  it('redis-cli CLIENT LIST and INFO', () => {
    const out = redisCli(srv.port, ['client', 'list']);
    expect(out).toMatch(/^id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ /m);
    expect(redisCli(srv.port, ['client', 'info'])).toMatch(/cmd=client\|info/);
  });
});

describe('CLIENT KILL', () => {
  it('old form ip:port closes that connection', async () => {
    const killer = await RawClient.connect(srv.port);
    const victim = await RawClient.connect(srv.port);
    const vid = await victim.call('CLIENT', 'ID') as number;
    const addr = parseList(await text(killer, 'CLIENT', 'LIST', 'ID', String(vid)))[0].get('addr') as string;
    expect(await text(killer, 'CLIENT', 'KILL', addr)).toBe('OK');
    expect(await victim.waitClose()).toBe(true);
    expect(await killer.call('CLIENT', 'KILL', addr)).toEqual({ error: 'ERR No such client' });
    killer.close();
  });

  it('filters: ID, ADDR, LADDR, TYPE, USER, SKIPME, MAXAGE', async () => {
    const killer = await RawClient.connect(srv.port);
    const v1 = await RawClient.connect(srv.port);
    const v2 = await RawClient.connect(srv.port);
    const id1 = await v1.call('CLIENT', 'ID') as number;
    expect(await killer.call('CLIENT', 'KILL', 'ID', String(id1))).toBe(1);
    expect(await v1.waitClose()).toBe(true);
    expect(await killer.call('CLIENT', 'KILL', 'ID', String(id1))).toBe(0);

    const info2 = parseList(await text(v2, 'CLIENT', 'INFO'))[0];
    expect(await killer.call('CLIENT', 'KILL', 'ADDR', '1.2.3.4:5')).toBe(0);
    expect(await killer.call('CLIENT', 'KILL', 'ADDR', info2.get('addr') as string, 'USER', 'default', 'TYPE', 'normal')).toBe(1);
    expect(await v2.waitClose()).toBe(true);

    // The caller survives SKIPME yes (the default) even when it matches.
    const myLaddr = parseList(await text(killer, 'CLIENT', 'INFO'))[0].get('laddr') as string;
    const v3 = await RawClient.connect(srv.port);
    await v3.call('PING');
    const killed = await killer.call('CLIENT', 'KILL', 'LADDR', myLaddr, 'MAXAGE', '0') as number;
    expect(killed).toBeGreaterThanOrEqual(1);
    expect(await v3.waitClose()).toBe(true);
    expect(show(await killer.call('PING'))).toBe('PONG');

    expect(await killer.call('CLIENT', 'KILL', 'ID', '0')).toEqual({ error: 'ERR client-id should be greater than 0' });
    expect(await killer.call('CLIENT', 'KILL', 'ID', 'x')).toEqual({ error: 'ERR client-id should be greater than 0' });
    expect(await killer.call('CLIENT', 'KILL', 'TYPE', 'foo')).toEqual({ error: "ERR Unknown client type 'foo'" });
    expect(await killer.call('CLIENT', 'KILL', 'USER', 'nosuch')).toEqual({ error: "ERR No such user 'nosuch'" });
    expect(await killer.call('CLIENT', 'KILL', 'SKIPME', 'maybe')).toEqual({ error: 'ERR syntax error' });
    expect(await killer.call('CLIENT', 'KILL', 'FOO', 'bar')).toEqual({ error: 'ERR syntax error' });
    expect(await killer.call('CLIENT', 'KILL', 'TYPE', 'normal', 'ID')).toEqual({ error: 'ERR syntax error' });

    // SKIPME no: the caller gets its reply, then its connection closes.
    const myId = await killer.call('CLIENT', 'ID') as number;
    expect(await killer.call('CLIENT', 'KILL', 'ID', String(myId), 'SKIPME', 'no')).toBe(1);
    expect(await killer.waitClose()).toBe(true);
  });
});

describe('CLIENT modes', () => {
  it('NO-EVICT sets the e flag', async () => {
    const c = await RawClient.connect(srv.port);
    expect(await text(c, 'CLIENT', 'NO-EVICT', 'on')).toBe('OK');
    expect(parseList(await text(c, 'CLIENT', 'INFO'))[0].get('flags')).toContain('e');
    expect(await text(c, 'CLIENT', 'NO-EVICT', 'OFF')).toBe('OK');
    expect(parseList(await text(c, 'CLIENT', 'INFO'))[0].get('flags')).toBe('N');
    expect(await c.call('CLIENT', 'NO-EVICT', 'maybe')).toEqual({ error: 'ERR syntax error' });
    c.close();
  });

  it('REPLY OFF / SKIP / ON', async () => {
    const c = await RawClient.connect(srv.port);
    // OFF and SKIP produce no reply: the next reply read belongs to a later command.
    const replies = await c.sendRaw(
      [
        ['CLIENT', 'REPLY', 'OFF'], ['SET', 'rk', '1'], ['GET', 'rk'], ['CLIENT', 'REPLY', 'ON'],
        ['CLIENT', 'REPLY', 'SKIP'], ['ECHO', 'skipped'], ['ECHO', 'seen'],
      ].map((a) => `*${a.length}\r\n${a.map((x) => `$${x.length}\r\n${x}\r\n`).join('')}`).join(''),
      2,
    );
    expect(replies.map(show)).toEqual(['OK', 'seen']);
    // REPLY ON answers even right after SKIP or OFF.
    const more = await c.sendRaw(
      [['CLIENT', 'REPLY', 'SKIP'], ['CLIENT', 'REPLY', 'ON'], ['CLIENT', 'REPLY', 'OFF'], ['CLIENT', 'REPLY', 'ON']]
        .map((a) => `*${a.length}\r\n${a.map((x) => `$${x.length}\r\n${x}\r\n`).join('')}`).join(''),
      2,
    );
    expect(more.map(show)).toEqual(['OK', 'OK']);
    expect(await c.call('CLIENT', 'REPLY', 'maybe')).toEqual({ error: 'ERR syntax error' });
    expect(show(await c.call('GET', 'rk'))).toBe('1');
    c.close();
  });

  it('HELP and unknown subcommands', async () => {
    const c = await RawClient.connect(srv.port);
    const help = (show(await c.call('CLIENT', 'HELP')) as string[]).join('\n');
    expect(help).toMatch(/^CLIENT <subcommand>/);
    for (const sub of ['GETNAME', 'ID', 'INFO', 'KILL', 'LIST', 'NO-EVICT', 'REPLY', 'SETINFO', 'SETNAME']) expect(help).toContain(sub);
    expect(await c.call('CLIENT', 'FOO')).toEqual({ error: "ERR unknown subcommand 'FOO'. Try CLIENT HELP." });
    expect(await c.call('CLIENT')).toEqual({ error: "ERR wrong number of arguments for 'client' command" });
    expect(await c.call('CLIENT', 'GETREDIR')).toBe(-1);
    expect(await c.call('CLIENT', 'UNBLOCK', '12345')).toBe(0);
    c.close();
  });
});
