// Glob-style matching on bytes with Redis's rules (KEYS, SCAN MATCH, CONFIG GET):
// * ? [abc] [^a] [a-z] and \ escapes.

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

// Set when a '*' tried every suffix and failed: a longer prefix for an outer
// '*' cannot match either, which keeps patterns like *a*a*a*b linear-ish.
let skipLonger = false;

function globMatch(
  p: Uint8Array, ps: number, pe: number,
  s: Uint8Array, ss: number, se: number,
  nocase: boolean, depth: number,
): boolean {
  if (depth > 1000) return false;
  while (ps < pe && ss <= se) {
    const pc = p[ps];
    switch (pc) {
      case 0x2a: { // '*'
        while (ps + 1 < pe && p[ps + 1] === 0x2a) ps++;
        if (ps + 1 === pe) return true;
        for (let i = ss; i < se; i++) {
          if (globMatch(p, ps + 1, pe, s, i, se, nocase, depth + 1)) return true;
          if (skipLonger) return false;
        }
        skipLonger = true;
        return false;
      }
      case 0x3f: // '?'
        if (ss >= se) return false;
        ss++;
        break;
      case 0x5b: { // '['
        if (ss >= se) return false;
        ps++;
        const not = ps < pe && p[ps] === 0x5e;
        if (not) ps++;
        let match = false;
        for (;;) {
          if (ps >= pe) { ps--; break; }
          if (p[ps] === 0x5c && ps + 1 < pe) {
            ps++;
            if (p[ps] === s[ss]) match = true;
          } else if (p[ps] === 0x5d) {
            break;
          } else if (ps + 2 < pe && p[ps + 1] === 0x2d) {
            let start = p[ps];
            let end = p[ps + 2];
            let c = s[ss];
            if (start > end) { const t = start; start = end; end = t; }
            if (nocase) { start = lower(start); end = lower(end); c = lower(c); }
            ps += 2;
            if (c >= start && c <= end) match = true;
          } else if (nocase ? lower(p[ps]) === lower(s[ss]) : p[ps] === s[ss]) {
            match = true;
          }
          ps++;
        }
        if (not) match = !match;
        if (!match) return false;
        ss++;
        break;
      }
      default:
        // An escaped character matches literally.
        if (pc === 0x5c && ps + 1 < pe) ps++;
        if (ss >= se) return false;
        if (nocase ? lower(p[ps]) !== lower(s[ss]) : p[ps] !== s[ss]) return false;
        ss++;
        break;
    }
    ps++;
  }
  while (ps < pe && p[ps] === 0x2a) ps++;
  return ps === pe && ss === se;
}

/** Whether `s` matches glob `pattern` (both bytes). */
export function matchBytes(pattern: Uint8Array, s: Uint8Array, nocase = false): boolean {
  skipLonger = false;
  return globMatch(pattern, 0, pattern.length, s, 0, s.length, nocase, 0);
}

/** String form for CONFIG GET and similar ASCII names. */
export function matchString(pattern: string, s: string, nocase = true): boolean {
  return matchBytes(Buffer.from(pattern), Buffer.from(s), nocase);
}
