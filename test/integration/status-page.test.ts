// The status page in a real browser: headless Chromium (Debian's) loads / from
// a kvslab's metrics port while ioredis drives load with evictions, hits and
// misses. The page must fetch nothing but its own server, raise no script
// errors, draw its charts with live points, and show figures that change and
// agree with INFO.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Redis } from 'ioredis';
import { freePort, RunningServer, startKvslab } from '../helpers/servers.js';
import { info } from '../helpers/info.js';

const CHROMIUM = '/usr/bin/chromium';

let srv: RunningServer;
let port: number;
let browser: Browser;
let page: Page;
const requests: string[] = [];
const errors: string[] = [];

beforeAll(async () => {
  port = await freePort();
  srv = await startKvslab(['--metrics-port', String(port), '--maxmemory', '8mb', '--maxmemory-policy', 'allkeys-lru']);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  page.on('request', (req) => { requests.push(req.url()); });
  page.on('pageerror', (e) => { errors.push(String(e)); });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load' });
});

afterAll(async () => {
  await browser?.close();
  await srv?.stop();
});

/** The raw number behind a figure of the page. */
async function figure(id: string): Promise<number> {
  return Number(await page.$eval(`#${id}`, (e) => e.getAttribute('data-value')));
}

async function text(id: string): Promise<string> {
  return page.$eval(`#${id}`, (e) => e.textContent ?? '');
}

/** Points of a line chart (0 when it has no line yet) and its path. */
async function chart(id: string): Promise<{ points: number; d: string }> {
  return page.$eval(`#${id}`, (svg) => {
    const line = svg.querySelector('path.line');
    return { points: Number(line?.getAttribute('data-points') ?? 0), d: line?.getAttribute('d') ?? '' };
  });
}

/** SETs of 1 KB values over a keyspace larger than maxmemory, and GETs that hit and miss, until stopped. */
function load(clients: Redis[]): { stop: () => Promise<void> } {
  let running = true;
  const value = 'v'.repeat(1000);
  const loops = clients.map(async (c, n) => {
    let i = 0;
    while (running) {
      const p = c.pipeline();
      for (let j = 0; j < 50; j++, i++) {
        p.set(`k:${n}:${i % 20000}`, value);
        p.get(`k:${n}:${(i * 7) % 20000}`);
      }
      await p.exec();
    }
  });
  return { stop: async () => { running = false; await Promise.all(loops); } };
}

describe('status page', () => {
  it('is one self-contained document: every request goes to its own server', async () => {
    expect(await page.title()).toBe('kvslab status');
    await page.waitForFunction(() => document.getElementById('live')?.className === 'ok', { timeout: 10_000 });
    expect(requests.length).toBeGreaterThanOrEqual(2);
    // data: URLs (the icon) are part of the document.
    for (const u of requests) expect(u.startsWith(`http://127.0.0.1:${port}/`) || u.startsWith('data:')).toBe(true);
    expect(await text('v-version')).toBe((await info(srv.client(), 'server')).get('kvslab_version'));
    expect(await text('v-policy')).toBe('allkeys-lru');
  });

  it('draws live charts while load runs, with numbers that agree with INFO', async () => {
    const clients = [srv.client(), srv.client()];
    await Promise.all(clients.map((c) => c.ping()));
    const uptime0 = await figure('v-uptime');
    const points0 = (await chart('chart-ops')).points;
    const l = load(clients);
    let busyOps = 0;
    let infoOps = 0;
    try {
      // At least 4 s, until the page has shown busy seconds and INFO agrees on the order of magnitude.
      const deadline = Date.now() + 15_000;
      for (let round = 1; Date.now() < deadline; round++) {
        await new Promise((res) => setTimeout(res, 1000));
        busyOps = await figure('v-ops');
        infoOps = Number((await info(clients[0], 'stats')).get('instantaneous_ops_per_sec'));
        if (round >= 4 && busyOps > 500 && (await figure('v-evicted')) > 0 && infoOps > 0 && busyOps / infoOps < 3 && infoOps / busyOps < 3) break;
      }
    } finally {
      await l.stop();
    }
    expect(busyOps).toBeGreaterThan(500);
    expect(busyOps / infoOps).toBeLessThan(3);
    expect(infoOps / busyOps).toBeLessThan(3);

    // Charts: the ops line grew by a point per refresh and has the points its path says.
    const ops = await chart('chart-ops');
    expect(ops.points).toBeGreaterThan(points0 + 2);
    expect(ops.d.split(/[ML]/).filter((s) => s.trim() !== '')).toHaveLength(ops.points);
    const ys = ops.d.split(/[ML]/).filter((s) => s.trim() !== '').map((p) => Number(p.trim().split(' ')[1]));
    expect(new Set(ys).size).toBeGreaterThan(1);
    expect((await chart('chart-hit')).points).toBeGreaterThan(1);
    expect((await chart('chart-evictions')).points).toBeGreaterThan(1);
    const slabBars = await page.$$eval('#chart-slabs rect.slab', (rs) => rs.map((r) => Number(r.getAttribute('data-bytes'))));
    expect(slabBars.length).toBeGreaterThan(0);
    expect(slabBars.every((b) => b > 0)).toBe(true);

    // Once idle, two refreshes later, the figures equal INFO's.
    await new Promise((res) => setTimeout(res, 2500));
    const i = await info(clients[0], 'all');
    expect(await figure('v-uptime')).toBeGreaterThan(uptime0);
    expect(await figure('v-clients')).toBe(Number(i.get('connected_clients')));
    expect(await figure('v-evicted')).toBe(Number(i.get('evicted_keys')));
    expect(await figure('v-keys')).toBe(Number(/keys=(\d+)/.exec(i.get('db0') ?? '')?.[1]));
    expect(await figure('v-maxmem')).toBe(8 * 1024 * 1024);
    const hits = Number(i.get('keyspace_hits'));
    const misses = Number(i.get('keyspace_misses'));
    expect(misses).toBeGreaterThan(0);
    expect(await figure('v-hit')).toBeCloseTo(hits / (hits + misses), 3);
    const mem = await figure('v-mem');
    expect(Math.abs(mem - Number(i.get('used_memory'))) / mem).toBeLessThan(0.1);
    expect(mem).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(await text('v-maxmem')).toMatch(/^of 8\.00 MiB \(\d+%\)$/);
    expect(await page.$eval('#t-dbs tbody', (t) => t.textContent)).toContain('db0');
    expect(errors).toEqual([]);
  });

  it('tells when the server stops answering', async () => {
    await srv.stop();
    await page.waitForFunction(() => document.getElementById('live')?.className === 'err', { timeout: 10_000 });
    expect(await page.$eval('#live', (e) => e.className)).toBe('err');
  });
});
