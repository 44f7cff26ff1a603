// Protected mode (on by default, as in Redis): while the default user needs
// no password, only loopback and unix-socket clients are served.

import type net from 'node:net';
import type { Config } from '../config/configuration.js';
import type { Acl } from '../acl/access-control.js';
import type { ServerStats } from '../commands/context.js';
import type { ListenerKind } from './listeners.js';

/** Redis's text for a client refused by protected mode, word for word (typo included). */
const PROTECTED_MODE_DENIED = '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command \'CONFIG SET protected-mode no\' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to \'no\', and then restarting the server. 3) If you started the server manually just for testing, restart it with the \'--protected-mode no\' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n';

/**
 * Protected mode (on by default): while the default user needs no password,
 * only loopback and unix-socket clients are served; any other gets DENIED
 * and is closed. True when the connection was refused.
 */
export function refusedByProtectedMode(socket: net.Socket, kind: ListenerKind, config: Config, acl: Acl, stats: ServerStats): boolean {
  if (kind === 'unix' || !config.bool('protected-mode') || !acl.defaultUser.nopass) return false;
  const a = socket.remoteAddress;
  if (a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1') return false;
  stats.totalConnections++;
  stats.rejectedConnections++;
  // Closed once written, whether or not the peer closes its side.
  socket.write(PROTECTED_MODE_DENIED);
  socket.destroySoon();
  return true;
}
