// The hash slot of a key, as Redis Cluster defines it: CRC16/XMODEM
// (polynomial 0x1021, initial 0, no reflection, no final XOR) of the key's
// bytes, or of its hash tag, & 16383. The tag is what lies between the first
// '{' and the first '}' after it, when that is not empty (Redis's
// keyHashSlot). Works on the request's bytes in place: no string, no copy.

export const SLOTS = 16384;

/** CRC16/XMODEM by bytes: one table lookup per byte. */
const CRC16_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

/** CRC16/XMODEM of bytes[start, end). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >>> 8) ^ bytes[i]) & 0xff];
  return crc;
}

const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

/** The slot of a key (0..16383). */
export function keyHashSlot(key: Uint8Array): number {
  const len = key.length;
  let open = -1;
  for (let i = 0; i < len; i++) {
    if (key[i] === OPEN) {
      open = i;
      break;
    }
  }
  if (open < 0) return crc16(key, 0, len) & (SLOTS - 1);
  let close = -1;
  for (let i = open + 1; i < len; i++) {
    if (key[i] === CLOSE) {
      close = i;
      break;
    }
  }
  // No '}' after the '{', or "{}": the whole key is hashed.
  if (close < 0 || close === open + 1) return crc16(key, 0, len) & (SLOTS - 1);
  return crc16(key, open + 1, close) & (SLOTS - 1);
}
