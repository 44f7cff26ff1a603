// Module type ids, as Redis encodes them (moduleTypeEncodeId): nine name
// characters from A-Z a-z 0-9 - _ at 6 bits each, then a 10-bit encoding
// version. An RDB module value (MODULE_2) starts with this id, so a reader
// knows which module's data follows and redis-check-rdb can step over it.

const CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function moduleTypeId(name: string, encver: number): bigint {
  if (name.length !== 9) throw new Error(`module type name '${name}' is not 9 characters`);
  if (!Number.isInteger(encver) || encver < 0 || encver > 1023) throw new Error(`module encoding version ${encver} is not 0..1023`);
  let id = 0n;
  for (const ch of name) {
    const pos = CHARSET.indexOf(ch);
    if (pos < 0) throw new Error(`module type name '${name}' has a character outside A-Z a-z 0-9 - _`);
    id = (id << 6n) | BigInt(pos);
  }
  return (id << 10n) | BigInt(encver);
}

export function moduleTypeName(id: bigint): { name: string; encver: number } {
  const encver = Number(id & 1023n);
  let rest = id >> 10n;
  let name = '';
  for (let i = 0; i < 9; i++) {
    name = CHARSET[Number(rest & 63n)] + name;
    rest >>= 6n;
  }
  return { name, encver };
}
