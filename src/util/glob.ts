// Glob-style matching on bytes with exactly Redis's rules (KEYS, SCAN MATCH,
// CONFIG GET): * ? [abc] [^a] [a-z] and \ escapes, including its quirks,
// which clients can observe:
// - matching stops as soon as the subject is used up, so a pattern needs at
//   least one subject byte to get going: "*" does not match "" (KEYS and SCAN
//   treat the lone "*" specially), while "" matches "";
// - an unclosed class "[abc" ends the pattern; "[]" never matches;
// - in a range, "-" takes the next byte as the end even if it is "]";
// - range bounds compare as C's signed chars, so bytes >= 0x80 sort below 0;
// - escapes inside a class compare exactly, even when matching without case;
// - more than 1000 nested '*' fail to match (Redis's guard against abuse).

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;
const MAX_NESTING = 1000;

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** A byte as C's (signed) char. */
function schar(c: number): number {
  return (c << 24) >> 24;
}

/**
 * Set when a '*' tried every suffix without a match: a longer match for an
 * earlier '*' cannot help either, which keeps patterns like *a*a*a*b from
 * going exponential. One match runs at a time, so a module variable will do.
 */
let skipLonger = false;

function matchImpl(
  p: Uint8Array, pi: number, pl: number,
  s: Uint8Array, si: number, sl: number,
  nocase: boolean, nesting: number,
): boolean {
  if (nesting > MAX_NESTING) return false;
  while (pl > 0 && sl > 0) {
    switch (p[pi]) {
      case STAR: {
        while (pl > 1 && p[pi + 1] === STAR) {
          pi++;
          pl--;
        }
        if (pl === 1) return true;
        while (sl > 0) {
          if (matchImpl(p, pi + 1, pl - 1, s, si, sl, nocase, nesting + 1)) return true;
          if (skipLonger) return false;
          si++;
          sl--;
        }
        skipLonger = true;
        return false;
      }
      case QUESTION:
        si++;
        sl--;
        break;
      case OPEN: {
        pi++;
        pl--;
        const not = pl > 0 && p[pi] === CARET;
        if (not) {
          pi++;
          pl--;
        }
        let match = false;
        for (;;) {
          if (pl >= 2 && p[pi] === BACKSLASH) {
            pi++;
            pl--;
            if (p[pi] === s[si]) match = true;
          } else if (pl > 0 && p[pi] === CLOSE) {
            break;
          } else if (pl === 0) {
            // Unclosed class: step back so the advance below ends the pattern.
            pi--;
            pl++;
            break;
          } else if (pl >= 3 && p[pi + 1] === DASH) {
            let start = schar(p[pi]);
            let end = schar(p[pi + 2]);
            let c = schar(s[si]);
            if (start > end) {
              const t = start;
              start = end;
              end = t;
            }
            if (nocase) {
              start = lower(start);
              end = lower(end);
              c = lower(c);
            }
            pi += 2;
            pl -= 2;
            if (c >= start && c <= end) match = true;
          } else if (nocase ? lower(p[pi]) === lower(s[si]) : p[pi] === s[si]) {
            match = true;
          }
          pi++;
          pl--;
        }
        if (not) match = !match;
        if (!match) return false;
        si++;
        sl--;
        break;
      }
      default:
        // An escaped byte matches literally; a trailing backslash is itself.
        if (p[pi] === BACKSLASH && pl >= 2) {
          pi++;
          pl--;
        }
        if (nocase ? lower(p[pi]) !== lower(s[si]) : p[pi] !== s[si]) return false;
        si++;
        sl--;
        break;
    }
    pi++;
    pl--;
    if (sl === 0) {
      while (pl > 0 && p[pi] === STAR) {
        pi++;
        pl--;
      }
      break;
    }
  }
  return pl === 0 && sl === 0;
}

/** Whether `s` matches glob `pattern` (both bytes), as Redis's stringmatchlen. */
export function matchBytes(pattern: Uint8Array, s: Uint8Array, nocase = false): boolean {
  skipLonger = false;
  return matchImpl(pattern, 0, pattern.length, s, 0, s.length, nocase, 0);
}

/** String form for CONFIG GET and similar ASCII names. */
export function matchString(pattern: string, s: string, nocase = true): boolean {
  return matchBytes(Buffer.from(pattern), Buffer.from(s), nocase);
}
