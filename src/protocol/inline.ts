// Inline commands ("PING\r\n" typed into telnet): split a line into arguments
// with the quoting rules of Redis's sdssplitargs.

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}
function hexVal(c: number): number {
  if (c <= 0x39) return c - 0x30;
  if (c >= 0x61) return c - 0x61 + 10;
  return c - 0x41 + 10;
}
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

/**
 * Splits `line[start, end)` into arguments. Returns null on unbalanced quotes
 * (a closing quote must be followed by a space or the end of the line).
 */
export function splitInlineArgs(line: Buffer, start: number, end: number): Buffer[] | null {
  const args: Buffer[] = [];
  let p = start;
  const cur: number[] = [];
  for (;;) {
    while (p < end && isSpace(line[p])) p++;
    if (p >= end) return args;
    let inq = false; // inside "double quotes"
    let insq = false; // inside 'single quotes'
    let done = false;
    cur.length = 0;
    while (!done) {
      if (inq) {
        if (p >= end) return null;
        const c = line[p];
        if (c === 0x5c && p + 3 < end && line[p + 1] === 0x78 && isHex(line[p + 2]) && isHex(line[p + 3])) {
          cur.push(hexVal(line[p + 2]) * 16 + hexVal(line[p + 3]));
          p += 3;
        } else if (c === 0x5c && p + 1 < end) {
          p++;
          const e = line[p];
          cur.push(e === 0x6e ? 0x0a : e === 0x72 ? 0x0d : e === 0x74 ? 0x09 : e === 0x62 ? 0x08 : e === 0x61 ? 0x07 : e);
        } else if (c === 0x22) {
          if (p + 1 < end && !isSpace(line[p + 1])) return null;
          done = true;
        } else {
          cur.push(c);
        }
      } else if (insq) {
        if (p >= end) return null;
        const c = line[p];
        if (c === 0x5c && p + 1 < end && line[p + 1] === 0x27) {
          p++;
          cur.push(0x27);
        } else if (c === 0x27) {
          if (p + 1 < end && !isSpace(line[p + 1])) return null;
          done = true;
        } else {
          cur.push(c);
        }
      } else {
        if (p >= end) {
          done = true;
          break;
        }
        const c = line[p];
        if (isSpace(c)) done = true;
        else if (c === 0x22) inq = true;
        else if (c === 0x27) insq = true;
        else cur.push(c);
      }
      if (p < end) p++;
    }
    args.push(Buffer.from(cur));
  }
}
