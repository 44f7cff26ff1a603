// KV.* commands: attention key/value tensors stored by token position (an
// LLM engine's KV cache). A tensor key is one item of the store, of type
// kvtensor, laid out as tensor/layout.ts describes: appends write rows in
// place, slices go out as views of the stored streams.
//
// Every handler validates all of its arguments and the key's shape before
// it changes anything, so a command that fails leaves the key as it was.

import type { CommandContext, Handler } from './context.js';
import { ValueType, type ByteSpan } from '../store/types.js';
import { dtypeCode, dtypeName, DTYPES } from '../tensor/dtype.js';
import {
  type Shape, type Tensor, MAX_HEADDIM, MAX_HEADS, MAX_LAYERS, headerBytes, layerLength, minLength, moveStreams, readTensor,
  rowAt, rowBytes, sameShape, setCapacity, setLayerLength, valueBytes, writeHeader,
} from '../tensor/layout.js';
import { argIs, cText, intOrReply, ERR_SYNTAX, ERR_WRONGTYPE, REPLIED } from './args.js';
import { expireAtOrReply, OPT_EX, OPT_PX } from './strings.js';
import type { CommandDef } from './model/command-table.js';
import { ACL_KVTENSOR, CMD_DENYOOM, CMD_FAST, CMD_READONLY, CMD_WRITE } from './model/flags.js';
import { keyAt, keysFrom, KS_ACCESS, KS_DELETE, KS_INSERT, KS_OW, KS_RO, KS_RW, KS_UPDATE } from './model/key-specs.js';

const ERR_NO_SUCH_KEY = 'ERR no such key';
/** Fewest tokens of room an appended-to tensor gets, so that small appends do not move it each time. */
const MIN_CAPACITY = 16;

// ---------------------------------------------------------------------------
// Options

const O_SHAPE = 1;
const O_META = 2;
const O_NX = 4;
const O_EXPIRE = 8;
const O_LAYER = 16;
const O_AT = 32;
const O_CREATE = 64;

interface Options {
  shape: Shape;
  /** Which of DTYPE, LAYERS, HEADS, HEADDIM were given (4 bits); KV defaults to 2. */
  shapeSeen: number;
  meta: Buffer | null;
  nx: boolean;
  /** Absolute expiry in ms, 0 for none. */
  expireAt: number;
  layer: number;
  at: number;
  create: boolean;
}

// Reused: handlers run one at a time and read the result before the next call.
const opts: Options = {
  shape: { dtype: 0, kv: 2, layers: 0, heads: 0, headdim: 0 },
  shapeSeen: 0, meta: null, nx: false, expireAt: 0, layer: -1, at: -1, create: false,
};

/** A dimension argument within [min, max], or null after replying. */
function dimOrReply(c: CommandContext, b: Buffer, name: string, min: number, max: number): number | null {
  const v = intOrReply(c, b);
  if (v === null) return null;
  if (v < min || v > max) {
    c.addError(`ERR ${name} must be between ${min} and ${max}`);
    return null;
  }
  return v;
}

/**
 * Parses the options that `allowed` permits from argv[from]. After CREATE
 * (KV.APPEND) only shape options may follow. Null after replying.
 */
function parseOptions(c: CommandContext, argv: Buffer[], from: number, allowed: number): Options | null {
  const o = opts;
  o.shape.kv = 2;
  o.shapeSeen = 0;
  o.meta = null;
  o.nx = false;
  o.expireAt = 0;
  o.layer = -1;
  o.at = -1;
  o.create = false;
  let expire = false;
  for (let j = from; j < argv.length; j++) {
    const a = argv[j];
    const hasValue = j + 1 < argv.length;
    const shapeOk = (allowed & O_SHAPE) !== 0 || o.create;
    if (shapeOk && hasValue && argIs(a, 'dtype')) {
      const code = dtypeCode(cText(argv[++j], 32));
      if (code < 0) {
        c.addError(`ERR unknown dtype '${cText(argv[j], 32)}', expected one of ${DTYPES.join(', ')}`);
        return null;
      }
      o.shape.dtype = code;
      o.shapeSeen |= 1;
    } else if (shapeOk && hasValue && argIs(a, 'layers')) {
      const v = dimOrReply(c, argv[++j], 'LAYERS', 1, MAX_LAYERS);
      if (v === null) return null;
      o.shape.layers = v;
      o.shapeSeen |= 2;
    } else if (shapeOk && hasValue && argIs(a, 'heads')) {
      const v = dimOrReply(c, argv[++j], 'HEADS', 1, MAX_HEADS);
      if (v === null) return null;
      o.shape.heads = v;
      o.shapeSeen |= 4;
    } else if (shapeOk && hasValue && argIs(a, 'headdim')) {
      const v = dimOrReply(c, argv[++j], 'HEADDIM', 1, MAX_HEADDIM);
      if (v === null) return null;
      o.shape.headdim = v;
      o.shapeSeen |= 8;
    } else if (shapeOk && hasValue && argIs(a, 'kv')) {
      const v = dimOrReply(c, argv[++j], 'KV', 1, 2);
      if (v === null) return null;
      o.shape.kv = v;
    } else if (o.create) {
      // Nothing but the shape may follow CREATE.
      c.addError(ERR_SYNTAX);
      return null;
    } else if ((allowed & O_META) !== 0 && hasValue && argIs(a, 'meta') && o.meta === null) {
      o.meta = argv[++j];
    } else if ((allowed & O_NX) !== 0 && argIs(a, 'nx')) {
      o.nx = true;
    } else if ((allowed & O_EXPIRE) !== 0 && hasValue && !expire && (argIs(a, 'ex') || argIs(a, 'px'))) {
      const at = expireAtOrReply(c, argv[++j], argIs(a, 'ex') ? OPT_EX : OPT_PX, cText(argv[0]).toLowerCase());
      if (at === null) return null;
      // Past 2^53 ms (285,000 years) the nearest double is as good.
      o.expireAt = Number(at);
      expire = true;
    } else if ((allowed & O_LAYER) !== 0 && hasValue && argIs(a, 'layer') && o.layer < 0) {
      const v = dimOrReply(c, argv[++j], 'LAYER', 0, MAX_LAYERS - 1);
      if (v === null) return null;
      o.layer = v;
    } else if ((allowed & O_AT) !== 0 && hasValue && argIs(a, 'at') && o.at < 0) {
      const v = dimOrReply(c, argv[++j], 'AT', 0, 0xffffffff);
      if (v === null) return null;
      o.at = v;
    } else if ((allowed & O_CREATE) !== 0 && argIs(a, 'create')) {
      o.create = true;
    } else {
      c.addError(ERR_SYNTAX);
      return null;
    }
  }
  return o;
}

/** Whether DTYPE, LAYERS, HEADS and HEADDIM were all given; replies the error when not. */
function shapeGivenOrReply(c: CommandContext, o: Options, cmd: string): boolean {
  if (o.shapeSeen === 15) return true;
  c.addError(`ERR ${cmd} needs DTYPE, LAYERS, HEADS and HEADDIM`);
  return false;
}

/** Whether a value of `bytes` stays within proto-max-bulk-len; replies the error when not. */
function sizeOkOrReply(c: CommandContext, bytes: number): boolean {
  const max = c.server.config.int('proto-max-bulk-len');
  if (bytes <= max) return true;
  c.addError(`ERR tensor of ${bytes} bytes would exceed proto-max-bulk-len (${max})`);
  return false;
}

function shapeText(s: Shape): string {
  return `dtype ${dtypeName(s.dtype)} layers ${s.layers} heads ${s.heads} headdim ${s.headdim} kv ${s.kv}`;
}

// ---------------------------------------------------------------------------
// Lookups

/** Handle of a tensor key, -1 when missing, REPLIED after a WRONGTYPE reply. */
function lookupTensorOrReply(c: CommandContext, key: Buffer, write: boolean): number {
  const h = write ? c.db.lookupWrite(key) : c.db.lookupRead(key);
  if (h >= 0 && c.db.type(h) !== ValueType.KvTensor) {
    c.addError(ERR_WRONGTYPE);
    return REPLIED;
  }
  return h;
}

/** The decoded header of a tensor key, and where its value starts. */
function tensorOf(c: CommandContext, h: number): { t: Tensor; s: ByteSpan } {
  const s = c.db.valueSpan(h);
  return { t: readTensor(s.buf, s.start), s };
}

/** Whether `layer` exists in `t`; replies the error when not. */
function layerOkOrReply(c: CommandContext, t: Tensor, layer: number): boolean {
  if (layer < t.layers) return true;
  c.addError(`ERR layer ${layer} is out of range, the key has ${t.layers} layers`);
  return false;
}

/**
 * Tokens in a payload of `bytes` that holds `streams` streams of `row`-byte
 * rows, or -1 after replying that it is not a whole number of tokens.
 */
function tokensOrReply(c: CommandContext, bytes: number, streams: number, row: number): number {
  const perToken = streams * row;
  if (bytes % perToken === 0) return bytes / perToken;
  c.addError(`ERR payload of ${bytes} bytes is not a whole number of tokens of ${perToken} bytes`);
  return -1;
}

// ---------------------------------------------------------------------------
// Writing

/** Sets `key` to a new tensor: header, META, and `tokens` tokens of `data` in the APPEND layout. Returns its handle. */
function storeTensor(c: CommandContext, key: Buffer, s: Shape, meta: Buffer | null, data: Buffer | null, tokens: number, expireAt: number): number {
  const metaLen = meta === null ? 0 : meta.length;
  // Sized first (the only step that can fail, for want of memory, and then nothing has changed),
  // then written in place: the payload is copied once, from the request into the store.
  const h = c.db.setValueSized(key, ValueType.KvTensor, valueBytes(s, metaLen, tokens), expireAt);
  const v = c.db.writable(h);
  writeHeader(v.buf, v.start, s, tokens, meta);
  for (let l = 0; l < s.layers; l++) setLayerLength(v.buf, v.start, l, tokens);
  // With capacity == tokens the stored streams are the payload's layout exactly.
  if (data !== null) data.copy(v.buf, v.start + headerBytes(s.layers, metaLen));
  return h;
}

function kvcreate(c: CommandContext, argv: Buffer[]): void {
  const o = parseOptions(c, argv, 2, O_SHAPE | O_META | O_NX | O_EXPIRE);
  if (o === null || !shapeGivenOrReply(c, o, 'KV.CREATE')) return;
  if (!sizeOkOrReply(c, valueBytes(o.shape, o.meta === null ? 0 : o.meta.length, 0))) return;
  if (o.nx && c.db.lookupWrite(argv[1]) >= 0) return c.addNull();
  storeTensor(c, argv[1], o.shape, o.meta, null, 0, o.expireAt);
  c.addOk();
}

function kvput(c: CommandContext, argv: Buffer[]): void {
  const o = parseOptions(c, argv, 3, O_SHAPE | O_META | O_NX | O_EXPIRE);
  if (o === null || !shapeGivenOrReply(c, o, 'KV.PUT')) return;
  const s = o.shape;
  const payload = argv[2];
  const tokens = tokensOrReply(c, payload.length, s.kv * s.layers, rowBytes(s));
  if (tokens < 0) return;
  if (!sizeOkOrReply(c, valueBytes(s, o.meta === null ? 0 : o.meta.length, tokens))) return;
  if (o.nx && c.db.lookupWrite(argv[1]) >= 0) return c.addNull();
  storeTensor(c, argv[1], s, o.meta, payload, tokens, o.expireAt);
  c.addInt(tokens);
}

/**
 * Gives tensor `h` room for `need` tokens per stream, moving the streams
 * apart. Room doubles: a sequence grown block by block to 256 tokens is
 * copied 4 times in all rather than 7 (with 1.5), and ends with no spare room
 * (16 · 2^k), which is where engines cut their chunks. Returns the (possibly
 * new) handle.
 */
function growCapacity(c: CommandContext, h: number, t: Tensor, need: number, maxBytes: number): number {
  let cap = Math.max(need, 2 * t.capacity, MIN_CAPACITY);
  // Room to grow is a saving, not a right: give it up before the size limit.
  while (cap > need && valueBytes(t, t.metaLen, cap) > maxBytes) cap = Math.max(need, cap - Math.ceil((cap - need) / 2));
  const old = c.db.valueSpan(h);
  const oldBuf = old.buf;
  const oldStart = old.start;
  const streams = t.kv * t.layers;
  // Only the header is kept by the resize; the streams are copied once, below, to their new places.
  h = c.db.resize(h, valueBytes(t, t.metaLen, cap), 0, t.dataAt);
  const w = c.db.writable(h);
  const base = w.start;
  if (w.buf === oldBuf && base === oldStart) {
    moveStreams(w.buf, base, t, cap);
  } else {
    // A new block (the old one stays readable: we hold it, and queued replies keep their views).
    for (let st = 0; st < streams; st++) {
      const from = oldStart + t.dataAt + st * t.capacity * t.row;
      oldBuf.copy(w.buf, base + t.dataAt + st * cap * t.row, from, from + layerLength(w.buf, base, st % t.layers) * t.row);
    }
    setCapacity(w.buf, base, cap);
  }
  t.capacity = cap;
  return h;
}

function kvappend(c: CommandContext, argv: Buffer[]): void {
  const o = parseOptions(c, argv, 3, O_LAYER | O_AT | O_CREATE);
  if (o === null) return;
  if (o.create && !shapeGivenOrReply(c, o, 'KV.APPEND ... CREATE')) return;
  const key = argv[1];
  const payload = argv[2];
  const h = lookupTensorOrReply(c, key, true);
  if (h === REPLIED) return;
  if (h >= 0) return appendTo(c, h, o, payload);
  if (!o.create) return c.addError(ERR_NO_SUCH_KEY);
  // A new key: check everything against the shape it would have before creating it.
  const s = o.shape;
  if (o.layer >= s.layers) return c.addError(`ERR layer ${o.layer} is out of range, the key has ${s.layers} layers`);
  const n = tokensOrReply(c, payload.length, s.kv * (o.layer >= 0 ? 1 : s.layers), rowBytes(s));
  if (n < 0) return;
  if (o.at > 0) return c.addError('ERR position mismatch, length is 0');
  if (!sizeOkOrReply(c, valueBytes(s, 0, n))) return;
  // Every layer at once is the stored layout already.
  if (o.layer < 0) {
    storeTensor(c, key, s, null, payload, n, 0);
    return c.addInt(n);
  }
  const created = storeTensor(c, key, s, null, null, 0, 0);
  try {
    appendTo(c, created, o, payload);
  } catch (e) {
    // Out of memory while growing the new key: it must not stay behind, empty.
    c.db.delete(key);
    throw e;
  }
}

/** Appends `payload` to live tensor `h` as the options say; replies the committed length or the error. */
function appendTo(c: CommandContext, h: number, o: Options, payload: Buffer): void {
  let { t, s } = tensorOf(c, h);
  if (o.create && !sameShape(t, o.shape)) return c.addError(`ERR shape mismatch, the key has ${shapeText(t)}`);
  const one = o.layer >= 0;
  if (one && !layerOkOrReply(c, t, o.layer)) return;
  const from = one ? o.layer : 0;
  const to = one ? o.layer + 1 : t.layers;
  const n = tokensOrReply(c, payload.length, t.kv * (to - from), t.row);
  if (n < 0) return;
  const len = layerLength(s.buf, s.start, from);
  if (!one) {
    const max = maxLength(s, t.layers);
    if (minLength(s.buf, s.start, 0, t.layers) !== max) {
      return c.addError(`ERR layers hold from ${minLength(s.buf, s.start, 0, t.layers)} to ${max} tokens: append by LAYER until they agree`);
    }
  }
  if (o.at >= 0 && o.at !== len) return c.addError(`ERR position mismatch, length is ${len}`);
  if (len + n > t.capacity) {
    if (!sizeOkOrReply(c, valueBytes(t, t.metaLen, len + n))) return;
    h = growCapacity(c, h, t, len + n, c.server.config.int('proto-max-bulk-len'));
  }
  // writable copies the block first if a queued reply still reads it.
  s = c.db.writable(h);
  const rows = n * t.row;
  let src = 0;
  for (let k = 0; k < t.kv; k++) {
    for (let l = from; l < to; l++) {
      payload.copy(s.buf, s.start + rowAt(t, k * t.layers + l, len), src, src + rows);
      src += rows;
    }
  }
  for (let l = from; l < to; l++) setLayerLength(s.buf, s.start, l, len + n);
  c.db.valueChanged(h);
  c.addInt(minLength(s.buf, s.start, 0, t.layers));
}

function maxLength(s: ByteSpan, layers: number): number {
  let max = 0;
  for (let l = 0; l < layers; l++) max = Math.max(max, layerLength(s.buf, s.start, l));
  return max;
}

function kvtruncate(c: CommandContext, argv: Buffer[]): void {
  const length = dimOrReply(c, argv[2], 'length', 0, 0xffffffff);
  if (length === null) return;
  let h = lookupTensorOrReply(c, argv[1], true);
  if (h === REPLIED) return;
  if (h < 0) return c.addZero();
  let { t, s } = tensorOf(c, h);
  if (maxLength(s, t.layers) <= length) return c.addInt(minLength(s.buf, s.start, 0, t.layers));
  s = c.db.writable(h);
  for (let l = 0; l < t.layers; l++) {
    if (layerLength(s.buf, s.start, l) > length) setLayerLength(s.buf, s.start, l, length);
  }
  // Give memory back when most of the room is unused: streams move down, from the first one on.
  const cap = Math.max(length, MIN_CAPACITY);
  if (cap * 2 <= t.capacity) {
    moveStreams(s.buf, s.start, t, cap);
    h = c.db.resize(h, valueBytes(t, t.metaLen, cap));
    s = c.db.valueSpan(h);
  }
  c.db.valueChanged(h);
  c.addInt(minLength(s.buf, s.start, 0, t.layers));
}

// ---------------------------------------------------------------------------
// Reading

// One span reused for the parts of a slice.
const part: ByteSpan = { buf: Buffer.alloc(0), start: 0, end: 0, block: null };

/**
 * Replies tokens [start, end) of layers [from, to) of tensor `h` as one
 * bulk string in the APPEND layout, each stream's run sent as a view.
 * Positions are already resolved and clamped.
 */
function addSlice(c: CommandContext, h: number, from: number, to: number, start: number, end: number): void {
  const { t, s } = tensorOf(c, h);
  const rows = (end - start) * t.row;
  c.addBulkHeader(t.kv * (to - from) * rows);
  if (rows > 0) {
    part.buf = s.buf;
    part.block = s.block;
    for (let k = 0; k < t.kv; k++) {
      for (let l = from; l < to; l++) {
        part.start = s.start + rowAt(t, k * t.layers + l, start);
        part.end = part.start + rows;
        c.addBulkPart(part);
      }
    }
  }
  c.addBulkEnd();
}

/** Resolves a half-open [start, end) against `len`: negatives count from the end, end is clamped. */
function resolveRange(start: number, end: number, len: number, out: number[]): void {
  if (start < 0) start = Math.max(0, len + start);
  if (end < 0) end = Math.max(0, len + end);
  if (end > len) end = len;
  if (start > end) start = end;
  out[0] = start;
  out[1] = end;
}

const range = [0, 0];

function kvslice(c: CommandContext, argv: Buffer[]): void {
  const start = intOrReply(c, argv[2]);
  if (start === null) return;
  const end = intOrReply(c, argv[3]);
  if (end === null) return;
  let from = 0;
  let to = -1;
  if (argv.length === 6 && argIs(argv[4], 'layer')) {
    const l = dimOrReply(c, argv[5], 'LAYER', 0, MAX_LAYERS - 1);
    if (l === null) return;
    from = l;
    to = l + 1;
  } else if (argv.length === 7 && argIs(argv[4], 'layers')) {
    const f = dimOrReply(c, argv[5], 'LAYERS from', 0, MAX_LAYERS);
    if (f === null) return;
    const e = dimOrReply(c, argv[6], 'LAYERS to', 0, MAX_LAYERS);
    if (e === null) return;
    if (e <= f) return c.addError('ERR LAYERS needs from < to');
    from = f;
    to = e;
  } else if (argv.length !== 4) {
    return c.addError(ERR_SYNTAX);
  }
  const h = lookupTensorOrReply(c, argv[1], false);
  if (h === REPLIED) return;
  if (h < 0) return c.addNull();
  const { t, s } = tensorOf(c, h);
  if (to < 0) to = t.layers;
  if (!layerOkOrReply(c, t, to - 1)) return;
  resolveRange(start, end, minLength(s.buf, s.start, from, to), range);
  addSlice(c, h, from, to, range[0], range[1]);
}

function kvmslice(c: CommandContext, argv: Buffer[]): void {
  const start = intOrReply(c, argv[1]);
  if (start === null) return;
  const end = intOrReply(c, argv[2]);
  if (end === null) return;
  // First find the run of present keys (and refuse a wrong type) before any reply is begun.
  const handles: number[] = [];
  for (let i = 3; i < argv.length; i++) {
    const h = lookupTensorOrReply(c, argv[i], false);
    if (h === REPLIED) return;
    if (h < 0) break;
    handles.push(h);
  }
  c.addArrayLen(handles.length);
  for (const h of handles) {
    const { t, s } = tensorOf(c, h);
    resolveRange(start, end, minLength(s.buf, s.start, 0, t.layers), range);
    addSlice(c, h, 0, t.layers, range[0], range[1]);
  }
}

function kvlen(c: CommandContext, argv: Buffer[]): void {
  const h = lookupTensorOrReply(c, argv[1], false);
  if (h === REPLIED) return;
  if (h < 0) return c.addZero();
  const { t, s } = tensorOf(c, h);
  c.addInt(minLength(s.buf, s.start, 0, t.layers));
}

function kvmeta(c: CommandContext, argv: Buffer[]): void {
  const h = lookupTensorOrReply(c, argv[1], false);
  if (h === REPLIED) return;
  if (h < 0) return c.addNull();
  const { t, s } = tensorOf(c, h);
  c.addBulkRange(s.buf, s.start + t.metaAt, s.start + t.metaAt + t.metaLen);
}

function kvinfo(c: CommandContext, argv: Buffer[]): void {
  const h = lookupTensorOrReply(c, argv[1], false);
  if (h === REPLIED) return;
  if (h < 0) return c.addNull();
  const { t, s } = tensorOf(c, h);
  const length = minLength(s.buf, s.start, 0, t.layers);
  const perToken = t.kv * t.layers * t.row;
  const at = c.db.expireAt(h);
  const lengths: number[] = [];
  for (let l = 0; l < t.layers; l++) lengths.push(layerLength(s.buf, s.start, l));
  c.addMapLen(12);
  c.addBulkString('dtype'); c.addBulkString(dtypeName(t.dtype));
  c.addBulkString('layers'); c.addInt(t.layers);
  c.addBulkString('kv'); c.addInt(t.kv);
  c.addBulkString('heads'); c.addInt(t.heads);
  c.addBulkString('headdim'); c.addInt(t.headdim);
  c.addBulkString('length'); c.addInt(length);
  c.addBulkString('layer_lengths'); c.addArrayLen(t.layers);
  for (const n of lengths) c.addInt(n);
  c.addBulkString('bytes_per_token'); c.addInt(perToken);
  c.addBulkString('bytes'); c.addInt(length * perToken);
  c.addBulkString('capacity'); c.addInt(t.capacity);
  c.addBulkString('meta_bytes'); c.addInt(t.metaLen);
  // As TTL: -1 without an expiry; else whole seconds left, rounded up.
  c.addBulkString('ttl'); c.addInt(at === 0 ? -1 : Math.max(0, Math.ceil((at - c.db.now()) / 1000)));
}

// ---------------------------------------------------------------------------
// Prefixes and leases

/** How many of argv[from..] exist in a row from the first; leases each of them until `leaseUntil` when > 0. */
function countPrefix(c: CommandContext, argv: Buffer[], from: number, leaseUntil: number): number {
  let n = 0;
  // A linear walk: a key evicted from the middle ends the prefix; nothing after it is looked at.
  for (let i = from; i < argv.length; i++) {
    const h = c.db.lookupRead(argv[i]);
    if (h < 0) break;
    if (leaseUntil > 0) c.db.lease(h, leaseUntil);
    n++;
  }
  return n;
}

function kvprefix(c: CommandContext, argv: Buffer[]): void {
  c.addInt(countPrefix(c, argv, 1, 0));
}

function kvpin(c: CommandContext, argv: Buffer[]): void {
  const ms = dimOrReply(c, argv[1], 'milliseconds', 1, 24 * 3600 * 1000);
  if (ms === null) return;
  // On the store's clock, which the lease is checked against.
  c.addInt(countPrefix(c, argv, 2, c.db.now() + ms));
}

// ---------------------------------------------------------------------------

const group = 'kvtensor';
const SHAPE = 'DTYPE dtype LAYERS layers HEADS heads HEADDIM headdim [KV kv]';

export const tensorCommands: CommandDef<Handler>[] = [
  {
    name: 'kv.create', arity: -10, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_KVTENSOR, keySpecs: [keyAt(1, KS_OW | KS_UPDATE)], handler: kvcreate,
    docs: { summary: 'Creates an empty KV tensor of a given shape (replacing the key unless NX).', since: '0.1.0', group, complexity: 'O(L) in the number of layers', syntax: `key ${SHAPE} [META meta] [NX] [EX seconds | PX milliseconds]` },
  },
  {
    name: 'kv.put', arity: -11, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_KVTENSOR, keySpecs: [keyAt(1, KS_OW | KS_UPDATE)], handler: kvput,
    docs: { summary: 'Stores a whole KV tensor (every layer, n tokens) in one step.', since: '0.1.0', group, complexity: 'O(N) in the payload bytes', syntax: `key payload ${SHAPE} [META meta] [NX] [EX seconds | PX milliseconds]` },
  },
  {
    name: 'kv.append', arity: -3, flags: CMD_WRITE | CMD_DENYOOM, acl: ACL_KVTENSOR, keySpecs: [keyAt(1, KS_RW | KS_INSERT)], handler: kvappend,
    docs: { summary: 'Appends tokens to every layer, or to one layer, of a KV tensor; returns the committed length.', since: '0.1.0', group, complexity: 'O(N) in the payload bytes, amortized', syntax: `key payload [LAYER layer] [AT position] [CREATE ${SHAPE}]` },
  },
  {
    name: 'kv.slice', arity: -4, flags: CMD_READONLY, acl: ACL_KVTENSOR, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: kvslice,
    docs: { summary: 'Returns tokens [start, end) of all layers, one layer, or a range of layers of a KV tensor.', since: '0.1.0', group, complexity: 'O(N) in the bytes returned', syntax: 'key start end [LAYER layer | LAYERS from to]' },
  },
  {
    name: 'kv.mslice', arity: -4, flags: CMD_READONLY, acl: ACL_KVTENSOR, keySpecs: [keysFrom(3, KS_RO | KS_ACCESS)], handler: kvmslice, slotsOfThisNode: true,
    docs: { summary: 'Returns tokens [start, end) of several KV tensors, stopping at the first missing key.', since: '0.1.0', group, complexity: 'O(N) in the bytes returned', syntax: 'start end key [key ...]' },
  },
  {
    name: 'kv.len', arity: 2, flags: CMD_READONLY | CMD_FAST, acl: ACL_KVTENSOR, keySpecs: [keyAt(1, KS_RO)], handler: kvlen,
    docs: { summary: 'Returns the committed length (tokens present in every layer) of a KV tensor.', since: '0.1.0', group, complexity: 'O(L) in the number of layers', syntax: 'key' },
  },
  {
    name: 'kv.info', arity: 2, flags: CMD_READONLY, acl: ACL_KVTENSOR, keySpecs: [keyAt(1, KS_RO)], handler: kvinfo,
    docs: { summary: 'Describes a KV tensor: shape, lengths, sizes, TTL.', since: '0.1.0', group, complexity: 'O(L) in the number of layers', syntax: 'key' },
  },
  {
    name: 'kv.meta', arity: 2, flags: CMD_READONLY | CMD_FAST, acl: ACL_KVTENSOR, keySpecs: [keyAt(1, KS_RO | KS_ACCESS)], handler: kvmeta,
    docs: { summary: 'Returns the META blob kept with a KV tensor.', since: '0.1.0', group, complexity: 'O(1)', syntax: 'key' },
  },
  {
    name: 'kv.truncate', arity: 3, flags: CMD_WRITE, acl: ACL_KVTENSOR, keySpecs: [keyAt(1, KS_RW | KS_DELETE)], handler: kvtruncate,
    docs: { summary: 'Drops the tokens of a KV tensor from a position on; returns the committed length.', since: '0.1.0', group, complexity: 'O(N) in the bytes kept when the tensor shrinks, else O(L)', syntax: 'key length' },
  },
  {
    name: 'kv.prefix', arity: -2, flags: CMD_READONLY | CMD_FAST, acl: ACL_KVTENSOR, keySpecs: [keysFrom(1, KS_RO)], handler: kvprefix, slotsOfThisNode: true,
    docs: { summary: 'Counts how many of the given keys exist in a row from the first.', since: '0.1.0', group, complexity: 'O(N) in the keys looked at', syntax: 'key [key ...]' },
  },
  {
    name: 'kv.pin', arity: -3, flags: CMD_READONLY | CMD_FAST, acl: ACL_KVTENSOR, keySpecs: [keysFrom(2, KS_RO)], handler: kvpin, slotsOfThisNode: true,
    docs: { summary: 'Counts the keys that exist in a row from the first and keeps them from eviction for a while.', since: '0.1.0', group, complexity: 'O(N) in the keys looked at', syntax: 'milliseconds key [key ...]' },
  },
];
