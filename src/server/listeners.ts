// Listening sockets: plain TCP on `port` and TLS on `tls-port`, each on every
// `bind` address, and a unix socket. Every kind hands its connections to the
// same client code (Server.accept). CONFIG SET port, bind and tls-port rebind
// at run time as Redis 7 does: the new sockets open first and the old ones
// close once all the new ones work; on a failure nothing changes and CONFIG
// SET fails with Redis's error. The tls-* files are read again when changed.
//
// TCP sockets are bound synchronously with Node's own TCP handle (tcp_wrap),
// as net.Server binds them itself, then served by net.Server.listen(handle):
// net.Server.listen() with a host looks the address up first, so a bind
// error would only be known on a later tick, and CONFIG SET must answer now.

import net from 'node:net';
import tls from 'node:tls';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import type { Config } from '../config/configuration.js';
import { STRERROR, strerror } from './logger.js';
import { sslError, tlsServerOptions } from './tls-options.js';

export type ListenerKind = 'tcp' | 'tls' | 'unix';

/** What the listeners need of the server (the Server is one). */
export interface ListenerHost {
  readonly config: Config;
  log(level: string, msg: string): void;
  /** The plain TCP port served, kept up to date as listeners change (INFO's tcp_port). */
  port: number;
}

/** Node's TCP server handle (lib/net.js creates the same). Methods return 0 or a negative errno. */
interface TcpHandle {
  bind(ip: string, port: number): number;
  bind6(ip: string, port: number, flags: number): number;
  listen(backlog: number): number;
  getsockname(out: { port?: number }): number;
  close(): void;
}

interface TcpWrapBinding {
  TCP: new (type: number) => TcpHandle;
  constants: { SERVER: number };
}

const tcpWrap = (process as unknown as { binding(name: string): TcpWrapBinding }).binding('tcp_wrap');
/** libuv's UV_TCP_IPV6ONLY: an IPv6 listener leaves IPv4 to its own. */
const UV_TCP_IPV6ONLY = 1;

/** A listening socket of `bind` on a port. */
interface Listener {
  host: string;
  port: number;
  srv: net.Server;
}

/** One address of `bind`: '-' marks it optional, '*' and '::*' are the wildcards. */
interface BindAddr {
  raw: string;
  host: string;
  optional: boolean;
}

function parseBind(bind: string): BindAddr[] {
  return bind.split(/\s+/).filter(Boolean).map((a) => {
    const optional = a.startsWith('-');
    const raw = optional ? a.slice(1) : a;
    const host = raw === '*' ? '0.0.0.0' : raw === '::*' ? '::' : raw;
    return { raw, host, optional };
  });
}

/** A socket error with its code (EADDRINUSE...) and the text Redis would log (strerror). */
class SocketError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function errnoError(errno: number): SocketError {
  const [code, text] = getSystemErrorMap().get(errno) ?? [`E${-errno}`, `error ${-errno}`];
  return new SocketError(code, STRERROR[code] ?? text.charAt(0).toUpperCase() + text.slice(1));
}

/** Binds and listens on host:port now. Host must be an IP address (no lookups: the answer must not wait). */
function openTcp(host: string, port: number, backlog: number): TcpHandle {
  const family = net.isIP(host);
  if (family === 0) throw new SocketError('EINVAL', `Invalid IP address '${host}' (bind takes IP addresses)`);
  const h = new tcpWrap.TCP(tcpWrap.constants.SERVER);
  let err = family === 6 ? h.bind6(host, port, UV_TCP_IPV6ONLY) : h.bind(host, port);
  // libuv reports an address in use at listen(), not at bind().
  if (err === 0) err = h.listen(backlog);
  if (err !== 0) {
    h.close();
    throw errnoError(err);
  }
  return h;
}

/** Whether two addresses cannot listen on one port together: a wildcard and any other of its family. */
function excludes(a: string, b: string): boolean {
  if (a === b || net.isIP(a) !== net.isIP(b)) return false;
  return a === '0.0.0.0' || a === '::' || b === '0.0.0.0' || b === '::';
}

/** Errors that skip an address instead of failing (Redis's listenToPort): no such family, or a '-' address missing. */
function skippable(code: string, optional: boolean): boolean {
  if (code === 'EADDRNOTAVAIL') return optional;
  return ['ENOPROTOOPT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EPFNOSUPPORT', 'EAFNOSUPPORT'].includes(code);
}

const PORT_FAILED = 'Unable to listen on this port. Check server logs.';
const TLS_FAILED = 'Unable to update TLS configuration. Check server logs.';

export class Listeners {
  private tcp: Listener[] = [];
  private tls: Listener[] = [];
  private unix: net.Server | null = null;
  /** The TLS options in force; null until TLS is first configured. */
  private tlsOptions: tls.TlsOptions | null = null;

  constructor(
    private readonly server: ListenerHost,
    private readonly accept: (socket: net.Socket, kind: ListenerKind) => void,
  ) {
    server.config.onChange((name) => this.configChanged(name));
  }

  /** The plain TCP port served (0: none). */
  get tcpPort(): number { return this.tcp[0]?.port ?? 0; }

  /** What "Ready to accept connections" lines name: tcp, tls, unix. */
  get kinds(): ListenerKind[] {
    const k: ListenerKind[] = [];
    if (this.tcp.length) k.push('tcp');
    if (this.tls.length) k.push('tls');
    if (this.unix) k.push('unix');
    return k;
  }

  /**
   * Start-up: every listener the configuration asks for. Port 0 picks a free
   * port, unless tls-port or unixsocket is set: then, as in Redis, it means
   * no plain TCP. Throws with the line Redis logs before exiting.
   */
  async start(): Promise<void> {
    const config = this.server.config;
    const log = this.server.log;
    const unixsocket = config.str('unixsocket');
    const tlsPort = config.int('tls-port');
    const anyPort = config.int('port') === 0 && tlsPort === 0 && unixsocket === '';
    const addrs = parseBind(config.str('bind'));
    if (tlsPort !== 0) {
      try {
        this.tlsOptions = tlsServerOptions(config);
      } catch (e) {
        log('warning', (e as Error).message);
        throw new Error('Failed to configure TLS. Check logs for more info.', { cause: e });
      }
    }
    if (config.int('port') !== 0 || anyPort) {
      this.tcp = this.openAll('tcp', addrs, config.int('port'), [], `Failed listening on port ${config.int('port')} (TCP), aborting.`);
      // The port picked is the port from now on: CONFIG GET shows it, rebinding keeps it.
      if (anyPort) config.setInternal('port', this.tcpPort);
    }
    if (tlsPort !== 0) this.tls = this.openAll('tls', addrs, tlsPort, [], `Failed listening on port ${tlsPort} (TLS), aborting.`);
    if (unixsocket) await this.openUnix(unixsocket, config.get('unixsocketperm') as number);
    this.server.port = this.tcpPort;
    if (this.tcp.length === 0 && this.tls.length === 0 && this.unix === null) throw new Error('Configured to not listen anywhere, exiting.');
  }

  /**
   * Opens `kind` listeners on `addrs` at `port` (0: a free one, the same for
   * all), reusing those of `keep` that match. On a failure, closes what it
   * opened and throws `failure` with the socket error as its cause; the
   * reason is logged as Redis logs it.
   */
  private openAll(kind: 'tcp' | 'tls', addrs: BindAddr[], port: number, keep: Listener[], failure: string): Listener[] {
    const out: Listener[] = [];
    const backlog = this.server.config.int('tcp-backlog');
    try {
      for (const a of addrs) {
        const kept = keep.find((l) => l.host === a.host && l.port === port);
        if (kept) {
          out.push(kept);
          continue;
        }
        let handle: TcpHandle;
        try {
          handle = openTcp(a.host, port, backlog);
        } catch (e) {
          const err = e as SocketError;
          const line = `Warning: Could not create server TCP listening socket ${a.raw}:${port}: bind: ${err.message}`;
          this.server.log('warning', line);
          if (skippable(err.code, a.optional)) continue;
          throw new SocketError(err.code, line);
        }
        if (port === 0) {
          const out2: { port?: number } = {};
          handle.getsockname(out2);
          port = out2.port ?? 0;
        }
        out.push({ host: a.host, port, srv: this.serve(kind, handle) });
      }
    } catch (e) {
      for (const l of out) if (!keep.includes(l)) l.srv.close();
      throw new Error(failure, { cause: e });
    }
    return out;
  }

  /** A net.Server (or tls.Server) serving a bound handle. */
  private serve(kind: 'tcp' | 'tls', handle: TcpHandle): net.Server {
    const srv = kind === 'tcp'
      // Accepted paused: the Client takes the connection over (see socket.ts).
      ? net.createServer({ noDelay: true, pauseOnConnect: true }, (s) => this.accept(s, 'tcp'))
      : tls.createServer({ ...this.tlsOptions, noDelay: true }, (s) => this.acceptTls(s));
    srv.on('error', (e) => this.server.log('warning', `Accepting client connection: ${e.message}`));
    if (kind === 'tls') {
      srv.on('tlsClientError', (e) => this.server.log('warning', `Error accepting a client connection: ${sslError(e)}`));
    }
    srv.listen(handle);
    return srv;
  }

  /** A TLS client after its handshake. Under tls-auth-clients optional, a certificate shown must verify. */
  private acceptTls(s: tls.TLSSocket): void {
    if (!s.authorized && this.server.config.str('tls-auth-clients') === 'optional' && Object.keys(s.getPeerCertificate()).length > 0) {
      this.server.log('warning', `Error accepting a client connection: certificate verify failed (${s.authorizationError})`);
      s.destroy();
      return;
    }
    this.accept(s, 'tls');
  }

  private openUnix(path: string, perm: number): Promise<void> {
    // Left over by a server that did not exit cleanly (Redis removes it too).
    try { unlinkSync(path); } catch { /* none */ }
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ pauseOnConnect: true }, (s) => this.accept(s, 'unix'));
      srv.once('error', (e) => {
        // libuv turns ENOENT (no such directory) into EACCES.
        const why = !existsSync(dirname(path)) ? STRERROR.ENOENT : strerror(e);
        reject(new Error(`Failed opening Unix socket: bind: ${why}`));
      });
      srv.listen({ path, backlog: this.server.config.int('tcp-backlog') }, () => {
        srv.removeAllListeners('error');
        srv.on('error', (e) => this.server.log('warning', `Accepting client connection: ${e.message}`));
        if (perm !== 0) chmodSync(path, perm);
        this.unix = srv;
        resolve();
      });
    });
  }

  /**
   * CONFIG SET of a directive: port, bind and tls-port rebind, the other
   * tls-* reload the TLS setup. Throws Redis's error; the config then puts
   * the old values back and calls again, which finds nothing to change.
   */
  private configChanged(name: string): void {
    const config = this.server.config;
    if (name === 'port') {
      this.rebind('tcp', config.int('port'), PORT_FAILED);
    } else if (name === 'bind') {
      this.rebind('tcp', config.int('port'), 'Failed to bind to specified addresses.');
      this.rebind('tls', config.int('tls-port'), 'Failed to bind to specified addresses.');
    } else if (name === 'tls-port') {
      // Turned on: the tls-* files as they are now (changes while off were not read).
      if (config.int('tls-port') !== 0 && this.tls.length === 0) this.reloadTls();
      this.rebind('tls', config.int('tls-port'), PORT_FAILED);
    } else if (name.startsWith('tls-') && config.int('tls-port') !== 0) {
      if (this.tlsChanged === null) this.reloadTls();
      else if (this.tlsChanged === '') this.tlsChanged = name;
    }
  }

  /**
   * While a CONFIG SET runs (see configSet): '' until a tls-* file or option
   * changes, then the first one's name; null otherwise, when a change
   * applies at once.
   */
  private tlsChanged: string | null = null;

  /**
   * CONFIG SET of several pairs: the TLS setup is read once, after all of
   * them (a certificate and its key change together), as Redis applies it.
   * If it fails, every pair goes back to its old value. Returns the error
   * text, or null.
   */
  configSet(pairs: [string, string][], allowProtected: boolean): string | null {
    const config = this.server.config;
    const before = pairs.map(([name]): [string, string] => [name, config.getMatching([name])[0]?.[1] ?? '']);
    this.tlsChanged = '';
    const err = config.setMany(pairs, allowProtected);
    const changed = this.tlsChanged;
    this.tlsChanged = null;
    if (err !== null || !changed) return err;
    try {
      this.reloadTls();
      return null;
    } catch (e) {
      // Every pair back to its old value, applied the same way (the old TLS files load again).
      this.tlsChanged = '';
      config.setMany(before, true);
      this.tlsChanged = null;
      try { this.reloadTls(); } catch { /* logged; the listeners keep the setup they had */ }
      return `ERR CONFIG SET failed (possibly related to argument '${changed}') - ${(e as Error).message}`;
    }
  }

  /** Reads the tls-* setup again and gives it to the TLS listeners (new connections use it). */
  private reloadTls(): void {
    try {
      this.tlsOptions = tlsServerOptions(this.server.config);
    } catch (e) {
      this.server.log('warning', (e as Error).message);
      throw new Error(TLS_FAILED);
    }
    for (const l of this.tls) {
      const srv = l.srv as tls.Server & Pick<tls.TlsOptions, 'requestCert' | 'rejectUnauthorized'>;
      srv.setSecureContext(this.tlsOptions);
      // Read from the server by each new connection; setSecureContext leaves them as they were.
      srv.requestCert = this.tlsOptions.requestCert;
      srv.rejectUnauthorized = this.tlsOptions.rejectUnauthorized;
    }
  }

  /**
   * Listens on `bind` at `port` (0: not at all) for `kind`, new sockets
   * first. A wildcard address and another of its family on the same port
   * exclude each other: those old sockets close first, and come back if the
   * new ones fail.
   */
  private rebind(kind: 'tcp' | 'tls', port: number, failure: string): void {
    const old = kind === 'tcp' ? this.tcp : this.tls;
    const addrs = port === 0 ? [] : parseBind(this.server.config.str('bind'));
    const kept = old.filter((l) => l.port === port && addrs.some((a) => a.host === l.host));
    const fresh = addrs.filter((a) => !kept.some((l) => l.host === a.host));
    const blocking = old.filter((l) => !kept.includes(l) && l.port === port && fresh.some((a) => excludes(a.host, l.host)));
    for (const l of blocking) l.srv.close();
    let next: Listener[];
    try {
      next = this.openAll(kind, addrs, port, kept, failure);
    } catch (e) {
      this.server.log('warning', `Failed applying new configuration: no ${kind === 'tcp' ? 'TCP' : 'TLS'} listener changed.`);
      this.set(kind, [...old.filter((l) => !blocking.includes(l)), ...this.reopen(kind, blocking)]);
      throw e;
    }
    for (const l of old) if (!next.includes(l) && !blocking.includes(l)) l.srv.close();
    this.set(kind, next);
  }

  /** The old listeners back after a failed swap (each worked a moment ago). */
  private reopen(kind: 'tcp' | 'tls', old: Listener[]): Listener[] {
    const out: Listener[] = [];
    for (const l of old) {
      try {
        out.push({ host: l.host, port: l.port, srv: this.serve(kind, openTcp(l.host, l.port, this.server.config.int('tcp-backlog'))) });
      } catch (e) {
        this.server.log('warning', `Could not restore the listening socket ${l.host}:${l.port}: ${(e as Error).message}`);
      }
    }
    return out;
  }

  private set(kind: 'tcp' | 'tls', list: Listener[]): void {
    if (kind === 'tcp') {
      this.tcp = list;
      this.server.port = this.tcpPort;
    } else {
      this.tls = list;
    }
  }

  /** Stops accepting: every listening socket is closed (the unix socket's file goes with it). */
  close(): void {
    for (const l of [...this.tcp, ...this.tls]) l.srv.close();
    this.tcp = [];
    this.tls = [];
    if (this.unix) {
      this.server.log('notice', 'Removing the unix socket file.');
      this.unix.close();
      this.unix = null;
    }
  }
}
