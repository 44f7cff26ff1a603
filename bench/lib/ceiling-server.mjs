#!/usr/bin/env node
// The "ceiling": what a bare Node.js server can do on this machine. It parses
// RESP just far enough to find each command's end and name, and answers GET
// with one fixed 64-byte value, SET and anything else with +OK, PING with
// +PONG. No store, no config, no errors: any server written in Node.js that
// does real work is slower than this, so kvslab / ceiling tells how much of
// the gap to Redis is Node itself.
//
//   node bench/lib/ceiling-server.mjs --port N [--bind 127.0.0.1]

import net from 'node:net';

const VALUE_SIZE = 64;
const REPLY = [
  Buffer.from('+OK\r\n', 'latin1'),
  Buffer.from(`$${VALUE_SIZE}\r\n${'x'.repeat(VALUE_SIZE)}\r\n`, 'latin1'),
  Buffer.from('+PONG\r\n', 'latin1'),
];
const R_OK = 0;
const R_GET = 1;
const R_PONG = 2;

// Command names as their first 4 bytes upper-cased and packed, plus length.
const pack = (s) => [...s].reduce((h, c) => ((h << 8) | c.charCodeAt(0)) >>> 0, 0);
const NAME_GET = pack('GET');
const NAME_SET = pack('SET');
const NAME_PING = pack('PING');

// Parser states.
const START = 0; // before a command: '*' or an inline command
const COUNT = 1; // digits of "*<n>\r\n"
const DOLLAR = 2; // before "$<len>\r\n"
const LEN = 3; // digits of the bulk length
const BULK = 4; // bulk bytes still to skip
const CRLF = 5; // the "\r\n" after a bulk
const INLINE = 6; // an inline command, up to '\n'

/** @param {net.Socket} sock */
function serve(sock) {
  let state = START;
  let num = 0; // count or length being read
  let args = 0; // arguments of the current command
  let arg = 0; // index of the argument being read
  let left = 0; // bytes left in the current bulk (or CRLF)
  let name = 0; // packed first 4 bytes of the name
  let nameLen = 0;
  let nameDone = false; // inline: the name has ended
  /** Replies owed for this chunk, as indexes into REPLY. */
  let owed = new Uint8Array(1024);
  let nOwed = 0;

  const finish = () => {
    let r = R_OK;
    if (nameLen === 3 && name === NAME_GET) r = R_GET;
    else if (nameLen === 3 && name === NAME_SET) r = R_OK;
    else if (nameLen === 4 && name === NAME_PING) r = R_PONG;
    if (nOwed === owed.length) {
      const bigger = new Uint8Array(owed.length * 2);
      bigger.set(owed);
      owed = bigger;
    }
    owed[nOwed++] = r;
    state = START;
  };
  const nameByte = (b) => {
    if (nameLen < 4) name = ((name << 8) | (b & 0xdf)) >>> 0; // ASCII upper case
    nameLen++;
  };

  sock.on('data', (buf) => {
    const n = buf.length;
    for (let i = 0; i < n;) {
      const b = buf[i];
      switch (state) {
        case START:
          name = 0;
          nameLen = 0;
          if (b === 42 /* * */) { i++; state = COUNT; num = 0; } else if (b === 13 || b === 10) i++;
          else { state = INLINE; nameDone = false; } // this byte is read again as INLINE
          break;
        case COUNT:
          i++;
          if (b >= 48 && b <= 57) num = num * 10 + b - 48;
          else if (b === 10) {
            args = num;
            arg = 0;
            if (args > 0) state = DOLLAR; else state = START;
          }
          break;
        case DOLLAR:
          i++;
          if (b === 36 /* $ */) { state = LEN; num = 0; } else { sock.destroy(); return; }
          break;
        case LEN:
          i++;
          if (b >= 48 && b <= 57) num = num * 10 + b - 48;
          else if (b === 10) { state = BULK; left = num; }
          break;
        case BULK: {
          const take = Math.min(left, n - i);
          if (arg === 0) for (let j = i; j < i + take; j++) nameByte(buf[j]);
          i += take;
          left -= take;
          if (left === 0) { state = CRLF; left = 2; }
          break;
        }
        case CRLF:
          i++;
          if (--left === 0) {
            if (++arg === args) finish(); else state = DOLLAR;
          }
          break;
        case INLINE:
          i++;
          if (b === 10) finish();
          else if (b === 32 || b === 13) nameDone = nameLen > 0 || nameDone;
          else if (!nameDone) nameByte(b);
          break;
        default:
          break;
      }
    }
    if (nOwed === 0) return;
    let size = 0;
    for (let k = 0; k < nOwed; k++) size += REPLY[owed[k]].length;
    const out = Buffer.allocUnsafe(size);
    let o = 0;
    for (let k = 0; k < nOwed; k++) o += REPLY[owed[k]].copy(out, o);
    nOwed = 0;
    sock.write(out);
  });
  sock.on('error', () => sock.destroy());
}

function parseArgs(argv) {
  let port = 6379;
  let bind = '127.0.0.1';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') port = Number(argv[++i]);
    else if (argv[i] === '--bind') bind = argv[++i];
    else throw new Error(`unknown option ${argv[i]}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port needs a port number');
  return { port, bind };
}

try {
  const { port, bind } = parseArgs(process.argv.slice(2));
  const server = net.createServer({ noDelay: true }, serve);
  server.on('error', (e) => {
    console.error(`ceiling-server: ${e.message}`);
    process.exit(1);
  });
  server.listen(port, bind);
  process.on('SIGTERM', () => process.exit(0));
} catch (e) {
  console.error(`ceiling-server: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
