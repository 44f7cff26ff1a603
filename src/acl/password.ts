// Passwords are kept only as SHA-256 digests in hex (what ACL GETUSER and
// ACL LIST show, and what "#<hash>" sets). A login attempt is hashed and
// compared against each digest in constant time, so the time taken says
// nothing about how much of a digest matched.

import { createHash, timingSafeEqual } from 'node:crypto';

/** The hex SHA-256 of a password's bytes (latin1 string = bytes). */
export function hashPassword(password: string): string {
  return createHash('sha256').update(Buffer.from(password, 'latin1')).digest('hex');
}

/** What "#<hash>" and "!<hash>" accept: exactly 64 lower-case hex characters. */
export function validHash(hash: string): boolean {
  return /^[0-9a-f]{64}$/.test(hash);
}

/** Whether `password` hashes to one of `hashes`; every digest is compared, each in constant time. */
export function passwordMatches(hashes: readonly string[], password: string): boolean {
  const given = createHash('sha256').update(Buffer.from(password, 'latin1')).digest();
  let ok = false;
  for (const h of hashes) {
    if (timingSafeEqual(given, Buffer.from(h, 'hex'))) ok = true;
  }
  return ok;
}
