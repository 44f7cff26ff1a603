// node:tls options from the tls-* directives, with the errors Redis logs
// when a file or setting is wrong (the listeners apply them at start-up and
// on CONFIG SET of any tls-* directive).

import tls from 'node:tls';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { constants as cryptoConstants } from 'node:crypto';
import type { Config } from '../config/configuration.js';
import { strerror } from './logger.js';

/** An OpenSSL error as OpenSSL 3 prints it ("error:0A0000C7:SSL routines::peer did not return a certificate"). */
export function sslError(e: Error): string {
  const m = /error:([0-9A-Fa-f]+):([^:]*):[^:]*:([^:\n]*)/.exec(e.message);
  return m ? `error:${m[1]}:${m[2]}::${m[3]}` : e.message;
}

/** tls-protocols ("TLSv1.2 TLSv1.3", any order; "" is those two) as node:tls versions. */
const TLS_VERSIONS: tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const NO_VERSION_FLAGS = [
  cryptoConstants.SSL_OP_NO_TLSv1, cryptoConstants.SSL_OP_NO_TLSv1_1, cryptoConstants.SSL_OP_NO_TLSv1_2, cryptoConstants.SSL_OP_NO_TLSv1_3,
];

function tlsVersions(protocols: string): Pick<tls.SecureContextOptions, 'minVersion' | 'maxVersion' | 'secureOptions'> {
  const words = protocols.split(/\s+/).filter(Boolean);
  const on = words.length === 0 ? [2, 3] : words.map((w) => TLS_VERSIONS.findIndex((v) => v.toLowerCase() === w.toLowerCase()));
  if (on.includes(-1)) {
    throw new Error("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.");
  }
  const min = Math.min(...on);
  const max = Math.max(...on);
  // Versions left out between the lowest and the highest are switched off one by one.
  let secureOptions = 0;
  for (let v = min; v <= max; v++) if (!on.includes(v)) secureOptions |= NO_VERSION_FLAGS[v];
  return { minVersion: TLS_VERSIONS[min], maxVersion: TLS_VERSIONS[max], secureOptions };
}

/** PEM certificates of tls-ca-cert-dir: every file in it that holds one. */
function readCaDir(dir: string): Buffer[] {
  const out: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    let b: Buffer;
    try {
      b = readFileSync(join(dir, name));
    } catch {
      continue; // subdirectories, unreadable files
    }
    if (b.includes('-----BEGIN CERTIFICATE-----')) out.push(b);
  }
  return out;
}

/**
 * node:tls server options for the tls-* directives. Throws with the reason
 * Redis logs (missing file, bad key, unknown protocol...).
 */
export function tlsServerOptions(config: Config): tls.TlsOptions {
  const certFile = config.str('tls-cert-file');
  const keyFile = config.str('tls-key-file');
  const caFile = config.str('tls-ca-cert-file');
  const caDir = config.str('tls-ca-cert-dir');
  const auth = config.str('tls-auth-clients');
  if (!certFile) throw new Error('No tls-cert-file configured!');
  if (!keyFile) throw new Error('No tls-key-file configured!');
  if (auth !== 'no' && !caFile && !caDir) {
    throw new Error('Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!');
  }
  const versions = tlsVersions(config.str('tls-protocols'));
  const step = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      // A file that cannot be read has a syscall; OpenSSL errors do not.
      throw new Error(`${what}: ${(e as NodeJS.ErrnoException).syscall ? strerror(e) : sslError(e as Error)}`);
    }
  };
  const cert = step(`Failed to load certificate: ${certFile}`, () => readFileSync(certFile));
  step(`Failed to load certificate: ${certFile}`, () => tls.createSecureContext({ cert }));
  const key = step(`Failed to load private key: ${keyFile}`, () => readFileSync(keyFile));
  const passphrase = config.str('tls-key-file-pass') || undefined;
  step(`Failed to load private key: ${keyFile}`, () => tls.createSecureContext({ cert, key, passphrase }));
  const ca = step('Failed to configure CA certificate(s) file/directory', () => {
    const list = [...(caFile ? [readFileSync(caFile)] : []), ...(caDir ? readCaDir(caDir) : [])];
    if (list.length > 0) tls.createSecureContext({ ca: list });
    return list.length > 0 ? list : undefined;
  });
  // node:tls takes TLSv1.3 suites and older ciphers in one list; one left unset keeps its defaults.
  const defaults = tls.DEFAULT_CIPHERS.split(':');
  const suites = config.str('tls-ciphersuites') || defaults.filter((c) => c.startsWith('TLS_')).join(':');
  const older = config.str('tls-ciphers') || defaults.filter((c) => !c.startsWith('TLS_')).join(':');
  const dh = config.str('tls-dh-params-file');
  const options: tls.TlsOptions = {
    cert, key, passphrase, ca,
    requestCert: auth !== 'no',
    // "optional": a client may come without a certificate; one it shows must be valid (see acceptTls).
    rejectUnauthorized: auth === 'yes',
    ...versions,
    ciphers: `${suites}:${older}`,
    honorCipherOrder: config.bool('tls-prefer-server-ciphers'),
    dhparam: dh ? step(`Failed to load DH params file: ${dh}`, () => readFileSync(dh)) : undefined,
    sessionTimeout: config.int('tls-session-cache-timeout'),
  };
  if (!config.bool('tls-session-caching')) options.secureOptions = (options.secureOptions ?? 0) | cryptoConstants.SSL_OP_NO_TICKET;
  step('Failed to configure TLS', () => tls.createSecureContext(options));
  return options;
}
