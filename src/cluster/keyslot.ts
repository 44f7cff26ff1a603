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
  return spanHashSlot(key, 0, key.length);
}

/** The slot of the key buf[start, end): the part between the first '{' and the next '}' when not empty, else all of it. */
export function spanHashSlot(buf: Uint8Array, start: number, end: number): number {
  let open = -1;
  for (let i = start; i < end; i++) {
    if (buf[i] === OPEN) {
      open = i;
      break;
    }
  }
  if (open < 0) return crc16(buf, start, end) & (SLOTS - 1);
  let close = -1;
  for (let i = open + 1; i < end; i++) {
    if (buf[i] === CLOSE) {
      close = i;
      break;
    }
  }
  // No '}' after the '{', or "{}": the whole key is hashed.
  if (close < 0 || close === open + 1) return crc16(buf, start, end) & (SLOTS - 1);
  return crc16(buf, open + 1, close) & (SLOTS - 1);
}
