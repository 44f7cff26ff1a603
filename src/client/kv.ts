// A typed client for the KV.* tensor commands, on an ioredis connection (or
// Cluster) the caller owns. Tensors go in as Buffers or any typed array (sent
// as a view of the same memory, no copy) and come back as Buffers;
// asFloat32() and friends view those as typed arrays. ioredis is only a type
// here: this module has no runtime dependency on it.
//
// On a Cluster, a single-key command goes straight to the master that owns
// the key's slot (ioredis does not know KV.* key positions: it would send it
// to any node and follow the MOVED, two round trips). KV.PREFIX, KV.PIN and
// KV.MSLICE, whose chunk keys hash to slots all over the cluster, go to
// every owning node at once, each with its own keys in order (a node runs
// them when it owns every key it is given), and the answers are combined:
// one parallel round trip, whatever the number of nodes or chunks.
//
// Payloads and slices are laid out [kv][layer][token][heads * headdim]: all of
// K (every layer, token after token), then all of V. A one-layer append or
// slice is [kv][token][heads * headdim].

import type { Cluster, Redis } from 'ioredis';
import { keyHashSlot } from '../cluster/keyslot.js';
import { DTYPE_SIZE, DTYPES, type DtypeName } from '../tensor/dtype.js';

export type Dtype = DtypeName;

/** The shape of a tensor key; kv is 2 (K and V, the default) or 1 (one latent per token). */
export interface Shape {
  dtype: Dtype;
  layers: number;
  heads: number;
  headdim: number;
  kv?: 1 | 2;
}

/** What KV.INFO reports. ttl is -1 without an expiry. */
export interface TensorInfo {
  dtype: Dtype;
  layers: number;
  kv: number;
  heads: number;
  headdim: number;
  length: number;
  layerLengths: number[];
  bytesPerToken: number;
  bytes: number;
  capacity: number;
  metaBytes: number;
  ttl: number;
}

export interface CreateOptions {
  meta?: Buffer | string;
  /** Only if the key does not exist yet. */
  nx?: boolean;
  /** Expiry in seconds (ex) or milliseconds (px); not both. */
  ex?: number;
  px?: number;
}

export interface AppendOptions {
  /** Append to this layer only (payload [kv][token][row]). */
  layer?: number;
  /** Fail unless the key (or the layer) holds exactly this many tokens. */
  at?: number;
  /** Create the key with this shape when it does not exist (the shape must match when it does). */
  create?: Shape;
}

export type SliceOptions = { layer?: number } | { layers: [from: number, to: number] };

export type TensorData = Buffer | ArrayBufferView;

/** Bytes per element of a dtype. */
export function dtypeBytes(dtype: Dtype): number {
  const code = DTYPES.indexOf(dtype);
  if (code < 0) throw new Error(`unknown dtype ${dtype}`);
  return DTYPE_SIZE[code];
}

/** Bytes of one row: one token of one layer of K (or V). */
export function rowBytes(shape: Shape): number {
  return shape.heads * shape.headdim * dtypeBytes(shape.dtype);
}

/** Bytes of `tokens` tokens of `layers` layers (all of them by default), K and V. */
export function tokensBytes(shape: Shape, tokens: number, layers = shape.layers): number {
  return (shape.kv ?? 2) * layers * tokens * rowBytes(shape);
}

/** A Buffer over the same memory as `data` (no copy). */
export function toBuffer(data: TensorData): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

type ViewCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** A typed-array view of `buf`; copies only when buf's offset is not aligned for the element size. */
function view<T>(ctor: ViewCtor<T>, buf: Buffer): T {
  const size = ctor.BYTES_PER_ELEMENT;
  if (buf.length % size !== 0) throw new RangeError(`${buf.length} bytes are not a whole number of ${size}-byte elements`);
  if (buf.byteOffset % size === 0) return new ctor(buf.buffer, buf.byteOffset, buf.length / size);
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  return new ctor(copy.buffer, 0, buf.length / size);
}

export const asFloat32 = (buf: Buffer): Float32Array => view(Float32Array, buf);
/** float16 and bfloat16 elements, as raw 16-bit words. */
export const asUint16 = (buf: Buffer): Uint16Array => view(Uint16Array, buf);
export const asInt8 = (buf: Buffer): Int8Array => view(Int8Array, buf);
export const asUint8 = (buf: Buffer): Uint8Array => view(Uint8Array, buf);

function shapeArgs(s: Shape): (string | number)[] {
  return ['DTYPE', s.dtype, 'LAYERS', s.layers, 'HEADS', s.heads, 'HEADDIM', s.headdim, 'KV', s.kv ?? 2];
}

function createArgs(o: CreateOptions): (string | number | Buffer)[] {
  const a: (string | number | Buffer)[] = [];
  if (o.meta !== undefined) a.push('META', o.meta);
  if (o.nx) a.push('NX');
  if (o.ex !== undefined) a.push('EX', o.ex);
  if (o.px !== undefined) a.push('PX', o.px);
  return a;
}

/** Keys by the node that owns them: each node's indexes into the caller's list, ascending. */
type NodeGroups = Map<string, number[]>;

export class KvTensorClient {
  constructor(readonly redis: Redis | Cluster) {}

  private get cluster(): Cluster | null {
    return (this.redis as Cluster).isCluster === true ? (this.redis as Cluster) : null;
  }

  /** The "host:port" of the master owning `key`'s slot in the Cluster's slot map; undefined while it has none. */
  private ownerOf(cluster: Cluster, key: string | Buffer): string | undefined {
    return cluster.slots[keyHashSlot(typeof key === 'string' ? Buffer.from(key) : key)]?.[0];
  }

  /** The Cluster's masters by "host:port" (the slot map's names for them). */
  private masters(cluster: Cluster): Map<string, Redis> {
    return new Map(cluster.nodes('master').map((n) => [`${n.options.host}:${n.options.port}`, n]));
  }

  /**
   * A command on `key` (see the top): on a Cluster, to its owner; if the slot
   * map has gone stale (that node answers MOVED), through the Cluster's own
   * routing, which follows it.
   */
  private async send(key: string | Buffer, buffers: boolean, cmd: string, ...args: (string | number | Buffer)[]): Promise<unknown> {
    const cluster = this.cluster;
    const owner = cluster === null ? undefined : this.masters(cluster).get(this.ownerOf(cluster, key) ?? '');
    const via = (r: Redis | Cluster) => (buffers ? r.callBuffer(cmd, ...args) : r.call(cmd, ...args));
    if (owner === undefined) return via(this.redis);
    try {
      return await via(owner);
    } catch (e) {
      if (!/^MOVED /.test((e as Error).message)) throw e;
      return via(this.redis);
    }
  }

  /** Groups `keys` by owning node from the Cluster's slot map; null while it has not got one. */
  private groups(cluster: Cluster, keys: (string | Buffer)[]): NodeGroups | null {
    const groups: NodeGroups = new Map();
    for (let i = 0; i < keys.length; i++) {
      const node = this.ownerOf(cluster, keys[i]);
      if (node === undefined) return null;
      const g = groups.get(node);
      if (g) g.push(i);
      else groups.set(node, [i]);
    }
    return groups;
  }

  /**
   * Runs `cmd` (its leading arguments, then each node's keys) on every owning
   * node at once: each node's answer with its group. A stale slot map (a
   * node answers MOVED after a reshard) is refreshed and the whole call made
   * again, once.
   */
  private async onOwners<T>(cluster: Cluster, cmd: string, lead: (string | number)[], keys: (string | Buffer)[], buffers: boolean): Promise<[number[], T][]> {
    for (let attempt = 0; ; attempt++) {
      const groups = this.groups(cluster, keys);
      const masters = this.masters(cluster);
      try {
        if (groups === null || [...groups.keys()].some((k) => !masters.has(k))) throw new Error('MOVED (no slot map yet)');
        return await Promise.all([...groups].map(async ([node, idx]): Promise<[number[], T]> => {
          const args = [...lead, ...idx.map((i) => keys[i])];
          const r = masters.get(node)!;
          return [idx, (await (buffers ? r.callBuffer(cmd, ...args) : r.call(cmd, ...args))) as T];
        }));
      } catch (e) {
        if (attempt > 0 || !/^(MOVED|CLUSTERDOWN)/.test((e as Error).message)) throw e;
        await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
      }
    }
  }

  /** How many keys exist in a row from the first, from each node's count of its own keys in a row. */
  private async prefixOnCluster(cluster: Cluster, cmd: 'KV.PREFIX' | 'KV.PIN', lead: (string | number)[], keys: (string | Buffer)[]): Promise<number> {
    let prefix = keys.length;
    // The first key missing over all nodes is, on its node, the first of that node's own keys that is missing.
    for (const [idx, count] of await this.onOwners<number>(cluster, cmd, lead, keys, false)) if (count < idx.length) prefix = Math.min(prefix, idx[count]);
    return prefix;
  }

  /** KV.CREATE: an empty tensor. False when `nx` is set and the key exists. */
  async create(key: string | Buffer, shape: Shape, opts: CreateOptions = {}): Promise<boolean> {
    return (await this.send(key, false, 'KV.CREATE', key, ...shapeArgs(shape), ...createArgs(opts))) !== null;
  }

  /** KV.PUT: a whole tensor, every layer; returns its tokens, null when `nx` is set and the key exists. */
  async put(key: string | Buffer, data: TensorData, shape: Shape, opts: CreateOptions = {}): Promise<number | null> {
    return (await this.send(key, false, 'KV.PUT', key, toBuffer(data), ...shapeArgs(shape), ...createArgs(opts))) as number | null;
  }

  /** KV.APPEND: adds tokens to every layer, or to one; returns the committed length (tokens in every layer). */
  async append(key: string | Buffer, data: TensorData, opts: AppendOptions = {}): Promise<number> {
    const a: (string | number | Buffer)[] = [key, toBuffer(data)];
    if (opts.layer !== undefined) a.push('LAYER', opts.layer);
    if (opts.at !== undefined) a.push('AT', opts.at);
    if (opts.create !== undefined) a.push('CREATE', ...shapeArgs(opts.create));
    return (await this.send(key, false, 'KV.APPEND', ...a)) as number;
  }

  /** KV.SLICE: tokens [start, end) of all layers, one layer, or layers [from, to); null when the key is missing. */
  async slice(key: string | Buffer, start: number, end: number, opts: SliceOptions = {}): Promise<Buffer | null> {
    const a: (string | number | Buffer)[] = [key, start, end];
    if ('layers' in opts) a.push('LAYERS', opts.layers[0], opts.layers[1]);
    else if (opts.layer !== undefined) a.push('LAYER', opts.layer);
    return (await this.send(key, true, 'KV.SLICE', ...a)) as Buffer | null;
  }

  /** KV.MSLICE: tokens [start, end) of each key, all layers; stops at the first missing key. */
  async mslice(keys: (string | Buffer)[], start: number, end: number): Promise<Buffer[]> {
    if (keys.length === 0) return [];
    const cluster = this.cluster;
    if (cluster === null) return (await this.redis.callBuffer('KV.MSLICE', start, end, ...keys)) as Buffer[];
    // Each node's slices stop at its first missing key; in the caller's order they stop at the first over all.
    const at = new Array<Buffer | undefined>(keys.length);
    let prefix = keys.length;
    for (const [idx, slices] of await this.onOwners<Buffer[]>(cluster, 'KV.MSLICE', [start, end], keys, true)) {
      slices.forEach((s, j) => { at[idx[j]] = s; });
      if (slices.length < idx.length) prefix = Math.min(prefix, idx[slices.length]);
    }
    return at.slice(0, prefix) as Buffer[];
  }

  /** KV.PREFIX: how many of `keys` exist in a row from the first. */
  async prefix(keys: (string | Buffer)[]): Promise<number> {
    if (keys.length === 0) return 0;
    const cluster = this.cluster;
    if (cluster !== null) return this.prefixOnCluster(cluster, 'KV.PREFIX', [], keys);
    return (await this.redis.call('KV.PREFIX', ...keys)) as number;
  }

  /** KV.PIN: as prefix(), and keeps the counted keys from eviction for `ms` milliseconds (on a Cluster each node leases its own). */
  async pin(ms: number, keys: (string | Buffer)[]): Promise<number> {
    if (keys.length === 0) return 0;
    const cluster = this.cluster;
    if (cluster !== null) return this.prefixOnCluster(cluster, 'KV.PIN', [ms], keys);
    return (await this.redis.call('KV.PIN', ms, ...keys)) as number;
  }

  /** KV.LEN: the committed length, 0 when the key is missing. */
  async len(key: string | Buffer): Promise<number> {
    return (await this.send(key, false, 'KV.LEN', key)) as number;
  }

  /** KV.INFO: shape, lengths and sizes; null when the key is missing. */
  async info(key: string | Buffer): Promise<TensorInfo | null> {
    const r = (await this.send(key, false, 'KV.INFO', key)) as unknown[] | Record<string, unknown> | null;
    if (r === null) return null;
    // RESP2 gives a flat array of names and values, RESP3 a map (which ioredis may hand over as an object).
    const m = new Map<string, unknown>();
    if (Array.isArray(r)) for (let i = 0; i + 1 < r.length; i += 2) m.set(String(r[i]), r[i + 1]);
    else for (const [k, v] of Object.entries(r)) m.set(k, v);
    const n = (name: string) => Number(m.get(name));
    return {
      dtype: String(m.get('dtype')) as Dtype,
      layers: n('layers'),
      kv: n('kv'),
      heads: n('heads'),
      headdim: n('headdim'),
      length: n('length'),
      layerLengths: (m.get('layer_lengths') as unknown[]).map(Number),
      bytesPerToken: n('bytes_per_token'),
      bytes: n('bytes'),
      capacity: n('capacity'),
      metaBytes: n('meta_bytes'),
      ttl: n('ttl'),
    };
  }

  /** KV.META: the META blob (empty when none was given); null when the key is missing. */
  async meta(key: string | Buffer): Promise<Buffer | null> {
    return (await this.send(key, true, 'KV.META', key)) as Buffer | null;
  }

  /** KV.TRUNCATE: keeps the first `length` tokens of every layer; returns the committed length (0 when missing). */
  async truncate(key: string | Buffer, length: number): Promise<number> {
    return (await this.send(key, false, 'KV.TRUNCATE', key, length)) as number;
  }
}
