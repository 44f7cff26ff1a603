// DEBUG DIGEST and DEBUG DIGEST-VALUE: Redis 7.0's SHA1 signature of the
// whole dataset or of single values (debug.c), so that a dataset can be
// compared across a save and load, or with a Redis holding the same strings.
//
// Redis's two steps: xor (digest ^= SHA1(data)), for what has no order, and
// mix (digest = SHA1(digest ^ SHA1(data))), for what has one. A key's digest
// mixes, from zero, its name, its type as a big-endian 32-bit number, then
// its value; a key with a TTL then xors in "!!expire!!" (the time itself is
// not digested). A database with entries mixes its number into the dataset's
// digest, and each key's digest is xored in: key order does not matter.
// Entries logically expired but not yet deleted count, as in Redis, which
// walks its dict without looking keys up.

import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';
import type { Store } from '../store/store.js';
import { ValueType } from '../store/types.js';
import { TENSOR_MODULE_NAME, tensorDumpForm } from './tensor-codec.js';

const SIZE = 20;
/** Redis's OBJ_STRING and OBJ_MODULE, as htonl(o->type) gives them. */
const TYPE_STRING = Buffer.from([0, 0, 0, 0]);
const TYPE_MODULE = Buffer.from([0, 0, 0, 5]);
const EXPIRE = Buffer.from('!!expire!!');
const TENSOR_NAME = Buffer.from(TENSOR_MODULE_NAME);

function sha1(data: Uint8Array): Buffer {
  return createHash('sha1').update(data).digest();
}

function xorInto(digest: Buffer, hash: Uint8Array): void {
  for (let i = 0; i < SIZE; i++) digest[i] ^= hash[i];
}

/** Redis's xorDigest. */
function xorDigest(digest: Buffer, data: Uint8Array): void {
  xorInto(digest, sha1(data));
}

/** Redis's mixDigest, given SHA1(data) already (a tensor is hashed in parts). */
function mixHash(digest: Buffer, hash: Uint8Array): void {
  xorInto(digest, hash);
  sha1(digest).copy(digest);
}

/** Redis's mixDigest. */
function mixDigest(digest: Buffer, data: Uint8Array): void {
  mixHash(digest, sha1(data));
}

/**
 * Redis's xorObjectDigest for entry `h`: mixes its type and value into
 * `digest`, and the expire marker when it has a TTL.
 *
 * A string is its bytes (Redis digests an integer-encoded string by its
 * decimal text: the same bytes). A KV tensor is digested as Redis digests a
 * module value (type 5), with the rule a digest callback of kvslab's module
 * type would follow: it adds two string buffers, the type name "kvslab-kv"
 * and the tensor in its dump form (tensor-codec.ts: capacity cut to the
 * longest layer, unwritten rows as zeros), and ends the sequence. The dump
 * form makes the digest the same after a reload, which cuts the capacity.
 */
function mixValue(digest: Buffer, db: Db, h: number): void {
  const span = db.valueSpan(h);
  if (db.type(h) === ValueType.KvTensor) {
    mixDigest(digest, TYPE_MODULE);
    // The module's digest context: RM_DigestAddStringBuffer mixes into its sequence digest `o`,
    // RM_DigestEndSequence xors `o` into `x` (x ^= SHA1(o)), and xorObjectDigest xors `x` in.
    const o = Buffer.alloc(SIZE);
    mixDigest(o, TENSOR_NAME);
    const hash = createHash('sha1');
    tensorDumpForm(span.buf, span.start).parts((buf, start, end) => { hash.update(buf.subarray(start, end)); });
    mixHash(o, hash.digest());
    const x = Buffer.alloc(SIZE);
    xorDigest(x, o);
    xorDigest(digest, x);
  } else {
    mixDigest(digest, TYPE_STRING);
    mixDigest(digest, span.buf.subarray(span.start, span.end));
  }
  if (db.expireAtExact(h) !== 0n) xorDigest(digest, EXPIRE);
}

/** DEBUG DIGEST: the dataset's digest in hex; 40 zeros when every database is empty. */
export function datasetDigest(store: Store): string {
  const total = Buffer.alloc(SIZE);
  const digest = Buffer.alloc(SIZE);
  const id = Buffer.alloc(4);
  for (const db of store.dbs) {
    if (db.size === 0) continue;
    // The database's number: the same keys in another database digest differently.
    id.writeUInt32BE(db.id);
    mixDigest(total, id);
    db.forEachEntry((h) => {
      digest.fill(0);
      mixDigest(digest, db.key(h));
      mixValue(digest, db, h);
      xorDigest(total, digest);
    });
  }
  return total.toString('hex');
}

/** DEBUG DIGEST-VALUE: one value's digest in hex (not its name's); 40 zeros for a missing key. */
export function valueDigest(db: Db, key: Buffer): string {
  const digest = Buffer.alloc(SIZE);
  const h = db.peek(key);
  if (h >= 0) mixValue(digest, db, h);
  return digest.toString('hex');
}
