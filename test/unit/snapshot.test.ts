// The store's point-in-time walk (Store.beginSnapshot / snapshotStep, the
// fork-free BGSAVE's core), in-process: random writes of every kind run
// between the walk's steps (overwrites in and out of large blocks, deletes,
// appends, in-place bit writes, expiry set and removed, renames, MOVE, SWAPDB,
// FLUSHDB, tensor appends, evictions), and what the walk plus the early
// hand-overs saw must be exactly the dataset as it was when the snapshot
// began: every entry once, with its old value and expiry, nothing made later.

import { describe, expect, it } from 'vitest';
import { TestServer, type TestContext } from '../helpers/context.js';
import { rng } from '../helpers/random.js';
import type { Db } from '../../src/store/db.js';
import type { ByteSpan } from '../../src/store/types.js';

/** An entry as the snapshot must see it: "db/key" -> type, value, expiry. */
type Seen = Map<string, string>;

const span: ByteSpan = { buf: Buffer.alloc(0), start: 0, end: 0, block: null };

function describeEntry(db: Db, h: number): string {
  const s = db.valueSpanInto(h, span);
  return `${db.type(h)}|${db.expireAtExact(h)}|${s.buf.toString('hex', s.start, s.end)}`;
}

function entryName(dbId: number, db: Db, h: number): string {
  return `${dbId}/${db.key(h).toString('latin1')}`;
}

/** The whole dataset now, read directly. */
function dataset(server: TestServer): Seen {
  const out: Seen = new Map();
  for (const db of server.store.dbs) db.forEachEntry((h) => out.set(entryName(db.id, db, h), describeEntry(db, h)));
  return out;
}

function tensorShape(): string[] {
  return ['DTYPE', 'float16', 'LAYERS', '2', 'HEADS', '1', 'HEADDIM', '4', 'KV', '2'];
}

function fill(server: TestServer, c: TestContext, r: () => number): void {
  for (let db = 0; db < 4; db++) {
    c.run('SELECT', String(db));
    for (let i = 0; i < 600; i++) {
      const len = r() < 0.05 ? 70_000 + Math.floor(r() * 1000) : Math.floor(r() * 200);
      const value = Buffer.alloc(len, i & 0xff).toString('latin1');
      if (r() < 0.3) c.run('SET', `k${i}`, value, 'PX', String(1_000_000 + i));
      else c.run('SET', `k${i}`, value);
    }
    for (let t = 0; t < 3; t++) {
      c.run('KV.CREATE', `t${t}`, ...tensorShape());
      c.run('KV.APPEND', `t${t}`, Buffer.alloc(2 * 2 * 5 * 8, t + 1).toString('latin1'));
    }
  }
  c.run('SELECT', '0');
  server.store.unpinAll();
}

/** One random write, of any kind the store has. */
function randomWrite(server: TestServer, c: TestContext, r: () => number): void {
  const db = Math.floor(r() * 4);
  c.run('SELECT', String(db));
  const key = `k${Math.floor(r() * 700)}`;
  const op = Math.floor(r() * 15);
  switch (op) {
    case 0: c.run('SET', key, 'new'); break;
    case 1: c.run('SET', key, Buffer.alloc(80_000, 7).toString('latin1')); break;
    case 2: c.run('DEL', key); break;
    case 3: c.run('APPEND', key, 'tail'); break;
    case 4: c.run('SETBIT', key, '3', '1'); break;
    case 5: c.run('PEXPIRE', key, '500000'); break;
    case 6: c.run('PERSIST', key); break;
    case 7: c.run('RENAME', key, `renamed${Math.floor(r() * 50)}`); break;
    case 8: c.run('MOVE', key, String((db + 1) % 4)); break;
    case 9: c.run('SETRANGE', key, '100000', 'x'); break;
    case 10: c.run('KV.APPEND', `t${Math.floor(r() * 3)}`, Buffer.alloc(2 * 2 * 8, 9).toString('latin1')); break;
    case 11: c.run('SWAPDB', String(db), String((db + 2) % 4)); break;
    case 12: if (r() < 0.1) c.run('FLUSHDB'); else c.run('UNLINK', key); break;
    case 13: c.run('INCR', `n${Math.floor(r() * 20)}`); break;
    case 14: server.store.evictOne(); break;
  }
  server.store.unpinAll();
}

describe('a snapshot walk is the dataset as it was when it began', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: random writes between the steps change nothing it sees`, () => {
      const server = new TestServer('maxmemory-policy allkeys-random');
      const c = server.connect();
      const r = rng(seed);
      fill(server, c, r);
      const before = dataset(server);
      const seen: Seen = new Map();
      const store = server.store;
      const record = (dbId: number, h: number) => {
        const name = entryName(dbId, store.dbs[dbId], h);
        if (seen.has(name)) throw new Error(`${name} handed to the snapshot twice`);
        seen.set(name, describeEntry(store.dbs[dbId], h));
      };
      let early = 0;
      store.beginSnapshot((dbId, h) => { early++; record(dbId, h); });
      for (let db = 0; db < store.dbs.length; db++) {
        let cursor = 0;
        do {
          cursor = store.snapshotStep(db, cursor, (h) => record(db, h));
          for (let i = Math.floor(r() * 4); i > 0; i--) randomWrite(server, c, r);
        } while (cursor !== 0);
      }
      store.endSnapshot(true);
      expect(early).toBeGreaterThan(50);
      expect(seen.size).toBe(before.size);
      for (const [name, entry] of before) expect(seen.get(name), name).toBe(entry);
    });
  }

  it('a snapshot stopped half way leaves every entry ready for the next one', () => {
    const server = new TestServer();
    const c = server.connect();
    const r = rng(9);
    fill(server, c, r);
    const store = server.store;
    store.beginSnapshot(() => {});
    let cursor = 0;
    for (let i = 0; i < 50; i++) cursor = store.snapshotStep(0, cursor, () => {});
    store.endSnapshot(false);
    for (let i = 0; i < 200; i++) randomWrite(server, c, r);
    const before = dataset(server);
    const seen: Seen = new Map();
    store.beginSnapshot(() => { throw new Error('no write runs during this walk'); });
    for (let db = 0; db < store.dbs.length; db++) {
      let at = 0;
      do at = store.snapshotStep(db, at, (h) => seen.set(entryName(db, store.dbs[db], h), describeEntry(store.dbs[db], h)));
      while (at !== 0);
    }
    store.endSnapshot(true);
    expect(seen).toEqual(before);
  });
});
