// Architecture check of src/ (make check-arch, part of make test; npm run check:arch): no import
// circles, and the layering server -> commands -> (acl, cluster, config, monitor, persistence) -> store -> (protocol, util).
// Paths are relative to the repository root.
// Type-only imports (`import type {...}`, `import { type X }`) count: tsPreCompilationDeps reads the
// TypeScript source, before tsc erases them.

// Clients of the server, not part of it: in no-circular, but not subject to the layering rules.
const CLIENTS = '^src/(examples|client|manager)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import circle in src/ (type-only imports included). Break it, e.g. move the shared types down a layer.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },

    // ---- Layering: each rule keeps one arrow pointing one way. ----

    {
      // src/protocol: parses the wire format; of ours it may use only src/util.
      name: 'protocol-only-util',
      comment: 'src/protocol may import nothing of ours outside src/protocol except src/util.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^src/', pathNot: '^src/(protocol|util)/' },
    },
    {
      // src/util: the bottom layer.
      name: 'util-is-leaf',
      comment: 'src/util imports nothing of ours outside src/util.',
      severity: 'error',
      from: { path: '^src/util/' },
      to: { path: '^src/', pathNot: '^src/util/' },
    },
    {
      // src/store: the keyspace; knows nothing of commands, the server or the layers above it.
      name: 'store-not-upward',
      comment: 'src/store may not import src/commands, src/server, src/acl, src/config, src/tensor, src/monitor, src/persistence, src/main.ts.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: ['^src/(commands|server|acl|config|tensor|monitor|persistence)/', '^src/main\\.ts$'] },
    },
    {
      // src/store's public face: everything else in it is internal to it.
      name: 'store-public-api',
      comment: 'From outside src/store import only src/store/{store,db,types,errors}.ts.',
      severity: 'error',
      from: { pathNot: ['^src/store/', CLIENTS] },
      to: { path: '^src/store/', pathNot: '^src/store/(store|db|types|errors)\\.ts$' },
    },
    {
      // src/commands: implement commands; the server calls them, not the other way round.
      name: 'commands-not-server',
      comment: 'src/commands may not import src/server or src/main.ts.',
      severity: 'error',
      from: { path: '^src/commands/' },
      to: { path: ['^src/server/', '^src/main\\.ts$'] },
    },
    {
      // src/acl: users and permissions; below the server.
      name: 'acl-not-server',
      comment: 'src/acl may not import src/server or src/main.ts.',
      severity: 'error',
      from: { path: '^src/acl/' },
      to: { path: ['^src/server/', '^src/main\\.ts$'] },
    },
    {
      // src/acl may read the command model, not the command implementations.
      name: 'acl-commands-model-only',
      comment: 'src/acl may import from src/commands only files under src/commands/model/.',
      severity: 'error',
      from: { path: '^src/acl/' },
      to: { path: '^src/commands/', pathNot: '^src/commands/model/' },
    },
    {
      // src/config: directives and their values; below server, commands and acl.
      name: 'config-not-upward',
      comment: 'src/config may not import src/server, src/commands, src/acl.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/(server|commands|acl)/' },
    },
    {
      // src/monitor: depends only on src/util.
      name: 'monitor-only-util',
      comment: 'src/monitor may import only src/util (and itself).',
      severity: 'error',
      from: { path: '^src/monitor/' },
      to: { path: '^src/', pathNot: '^src/(monitor|util)/' },
    },
    {
      // src/tensor: the KV.* commands sit above it, not below.
      name: 'tensor-not-upward',
      comment: 'src/tensor may not import src/commands or src/server.',
      severity: 'error',
      from: { path: '^src/tensor/' },
      to: { path: '^src/(commands|server)/' },
    },
    {
      // src/persistence: a subsystem below the commands (SAVE, DUMP, RESTORE call it) and the
      // server (which owns it); it reads the store's public API, the config and the tensor layout.
      name: 'persistence-not-upward',
      comment: 'src/persistence may not import src/commands, src/server, src/acl or src/main.ts.',
      severity: 'error',
      from: { path: '^src/persistence/' },
      to: { path: ['^src/(commands|server|acl)/', '^src/main\\.ts$'] },
    },
    {
      // src/cluster: the slot map, the slot check's answers and slot migration; the commands and the
      // server use it, it reads the layers below (the store, the protocol, util) and the DUMP format of
      // src/persistence, in which slots move (persistence knows nothing of cluster mode).
      name: 'cluster-only-below',
      comment: 'src/cluster may import only src/store, src/persistence, src/protocol and src/util (and itself).',
      severity: 'error',
      from: { path: '^src/cluster/' },
      to: { path: '^src/', pathNot: '^src/(cluster|store|persistence|protocol|util)/' },
    },
  ],
  options: {
    includeOnly: '^src/', // our code only; node: built-ins and npm packages are not followed
    tsPreCompilationDeps: true, // see type-only imports (tsc would erase them)
    tsConfig: { fileName: 'tsconfig.json' }, // NodeNext: `import './x.js'` resolves to ./x.ts
  },
};
