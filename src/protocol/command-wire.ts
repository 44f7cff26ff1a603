// A command as another server reads it (a RESP array of bulk strings), in
// pieces: each argument's header, the argument itself (not copied: a 32 MiB
// payload goes out as the buffer it is), its CRLF: MIGRATE's RESTOREs.

const CRLF = Buffer.from('\r\n');

export function commandParts(args: readonly Buffer[]): Buffer[] {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), a, CRLF);
  return parts;
}
