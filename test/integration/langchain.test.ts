// LangChain.js's RedisCache (@langchain/community/caches/ioredis) on an
// ioredis client pointed at kvslab: a model call's result is written with
// SET ... EX and read back with GET, so a second call with the same prompt is
// answered from kvslab without reaching the model. Fake models from
// @langchain/core stand in for the LLM: their response lists advance only on
// real calls (FakeListChatModel's index wraps at the end of its list, so
// each list here is longer than the calls it serves), which tells a cache
// hit from a miss.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisCache } from '@langchain/community/caches/ioredis';
import type { Generation } from '@langchain/core/outputs';
import { FakeListChatModel, FakeStreamingLLM } from '@langchain/core/utils/testing';
import { startKvslab, RunningServer } from '../helpers/servers.js';

/** A RedisCache that remembers what it was asked, to name the keys it used. */
class RecordingCache extends RedisCache {
  readonly lookups: { prompt: string; llmKey: string; hit: boolean }[] = [];
  readonly updates: { prompt: string; llmKey: string }[] = [];

  override async lookup(prompt: string, llmKey: string): Promise<Generation[] | null> {
    const got = await super.lookup(prompt, llmKey);
    this.lookups.push({ prompt, llmKey, hit: got !== null });
    return got;
  }

  override async update(prompt: string, llmKey: string, value: Generation[]): Promise<void> {
    this.updates.push({ prompt, llmKey });
    await super.update(prompt, llmKey, value);
  }

  /** The key RedisCache stores the i-th generation of an update under. */
  keyOf(u: { prompt: string; llmKey: string }, i = 0): string {
    return this.keyEncoder(u.prompt, u.llmKey, String(i));
  }
}

async function allKeys(r: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'COUNT', 100);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys.sort();
}

let srv: RunningServer;
let r: Redis;
beforeAll(async () => {
  srv = await startKvslab();
  r = srv.client();
});
afterAll(async () => { await srv.stop(); });
beforeEach(async () => { await r.flushall(); });

describe('LangChain RedisCache on kvslab', () => {
  it('a chat model\'s answer is cached with its TTL; the same prompt hits, another misses', async () => {
    const cache = new RecordingCache(r, { ttl: 60 });
    const model = new FakeListChatModel({ responses: ['kvslab is a cache', 'second answer', 'third answer'], cache });

    const first = await model.invoke('What is kvslab?');
    expect(first.content).toBe('kvslab is a cache');
    expect(model.i).toBe(1);
    expect(cache.lookups.map((l) => l.hit)).toEqual([false]);
    expect(cache.updates).toHaveLength(1);

    // The entry is in kvslab under the key RedisCache computes, with the TTL it asked for.
    const key = cache.keyOf(cache.updates[0]);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await allKeys(r)).toEqual([key]);
    expect(await r.keys('*')).toEqual([key]);
    const ttl = await r.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    const pttl = await r.pttl(key);
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    const stored = JSON.parse((await r.get(key))!) as { text: string; message?: { type: string; data: { content: unknown } } };
    expect(stored.text).toBe('kvslab is a cache');
    expect(stored.message?.type).toBe('ai');
    expect(stored.message?.data.content).toBe('kvslab is a cache');

    // Same prompt: answered from kvslab, the model is not called (its list does not advance).
    const second = await model.invoke('What is kvslab?');
    expect(second.content).toBe('kvslab is a cache');
    expect(second.getType()).toBe('ai');
    expect(model.i).toBe(1);
    expect(cache.lookups.map((l) => l.hit)).toEqual([false, true]);
    expect(cache.updates).toHaveLength(1);

    // Another prompt misses, calls the model and adds a second key.
    const other = await model.invoke('What is Redis?');
    expect(other.content).toBe('second answer');
    expect(model.i).toBe(2);
    expect(cache.lookups.map((l) => l.hit)).toEqual([false, true, false]);
    expect(cache.updates).toHaveLength(2);
    const otherKey = cache.keyOf(cache.updates[1]);
    expect(otherKey).not.toBe(key);
    expect(await allKeys(r)).toEqual([key, otherKey].sort());
    expect(await r.dbsize()).toBe(2);

    // Another process with its own client and model of the same kind finds the entries too.
    const r2 = srv.client();
    const model2 = new FakeListChatModel({ responses: ['never used', 'nor this'], cache: new RedisCache(r2, { ttl: 60 }) });
    expect((await model2.invoke('What is kvslab?')).content).toBe('kvslab is a cache');
    expect((await model2.invoke('What is Redis?')).content).toBe('second answer');
    expect(model2.i).toBe(0);
  });

  it('an LLM\'s completion is cached the same way', async () => {
    const cache = new RecordingCache(r, { ttl: 60 });
    const llm = new FakeStreamingLLM({ responses: ['alpha', 'beta'], cache });

    expect(await llm.invoke('Complete: the quick brown fox')).toBe('alpha');
    expect(llm.responses).toEqual(['beta']);
    expect(await llm.invoke('Complete: the quick brown fox')).toBe('alpha');
    expect(llm.responses).toEqual(['beta']);
    expect(cache.lookups.map((l) => l.hit)).toEqual([false, true]);

    const key = cache.keyOf(cache.updates[0]);
    expect(await allKeys(r)).toEqual([key]);
    expect(JSON.parse((await r.get(key))!)).toEqual({ text: 'alpha' });
    const ttl = await r.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);

    expect(await llm.invoke('Complete: jumps over the lazy dog')).toBe('beta');
    expect(llm.responses).toEqual([]);
    expect(cache.lookups.map((l) => l.hit)).toEqual([false, true, false]);
    expect(await r.dbsize()).toBe(2);
  });

  it('an entry past its TTL is gone from kvslab and the model is called again', async () => {
    const cache = new RecordingCache(r, { ttl: 1 });
    const model = new FakeListChatModel({ responses: ['before expiry', 'after expiry', 'unused'], cache });
    expect((await model.invoke('Expiring prompt')).content).toBe('before expiry');
    const key = cache.keyOf(cache.updates[0]);
    const pttl = await r.pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1000);
    expect((await model.invoke('Expiring prompt')).content).toBe('before expiry');
    expect(model.i).toBe(1);

    await new Promise((res) => setTimeout(res, 1300));
    expect(await r.exists(key)).toBe(0);
    expect((await model.invoke('Expiring prompt')).content).toBe('after expiry');
    expect(model.i).toBe(2);
    expect(cache.lookups.map((l) => l.hit)).toEqual([false, true, false]);
    // Stored again, with the TTL again.
    expect(JSON.parse((await r.get(key))!).text).toBe('after expiry');
    expect(await r.pttl(key)).toBeGreaterThan(0);
  });

  it('without a TTL the entry is stored without one', async () => {
    const cache = new RecordingCache(r);
    const model = new FakeListChatModel({ responses: ['persistent'], cache });
    expect((await model.invoke('No TTL')).content).toBe('persistent');
    const key = cache.keyOf(cache.updates[0]);
    expect(await r.exists(key)).toBe(1);
    expect(await r.ttl(key)).toBe(-1);
  });
});
