import * as z from 'zod';
import { IsoTime } from './common';
import { defineNotification, defineRequest } from './define';

/** Protocol version spoken by this build: `major.minor`. A client with another major is refused. */
export const PROTOCOL_VERSION = '1.0';

export const Initialize = defineRequest(
  'daemon/initialize',
  z.object({
    /** The client's protocol version, `major.minor`. */
    protocolVersion: z.string().regex(/^\d+\.\d+$/, 'protocolVersion must look like "1.0"'),
    client: z.object({ name: z.string().min(1).max(100), version: z.string().max(50).optional() }).optional(),
  }),
  z.object({
    protocolVersion: z.string(),
    daemonVersion: z.string(),
    /** Name of the token this connection authenticated with (`owner` or a minted token's name). */
    actor: z.string(),
    scope: z.enum(['read', 'write', 'admin']),
    capabilities: z.object({
      methods: z.array(z.string()),
      notifications: z.array(z.string()),
      /** Largest accepted message, bytes. */
      maxMessageBytes: z.number().int().positive(),
      maxBatch: z.number().int().positive(),
    }),
    serverTime: IsoTime,
  }),
  { kind: 'query', doc: 'First call on every connection: agree the protocol version, learn capabilities.' },
);

export const DaemonStatus = z.object({
  health: z.enum(['ok', 'degraded']),
  /** Reasons for `degraded`, empty when ok. */
  problems: z.array(z.string()),
  version: z.string(),
  protocolVersion: z.string(),
  pid: z.number().int(),
  startedAt: IsoTime,
  /** Milliseconds since start. */
  uptimeMs: z.number().int().min(0),
  dataDir: z.string(),
  eventLog: z.object({
    /** Bytes of all segments on disk. */
    bytes: z.number().int().min(0),
    events: z.number().int().min(0),
    segments: z.number().int().min(0),
    lastSeq: z.number().int().min(0),
    /** Seq covered by the newest projection snapshot. */
    snapshotSeq: z.number().int().min(0),
  }),
  streams: z.array(z.object({ name: z.string(), events: z.number().int().min(0), bytes: z.number().int().min(0) })),
  connections: z.number().int().min(0),
});
export type DaemonStatus = z.infer<typeof DaemonStatus>;

export const GetStatus = defineRequest('daemon/status', z.object({}), DaemonStatus, {
  kind: 'query',
  doc: 'Health, uptime, event-log size and events per stream.',
});

export const Shutdown = defineRequest('daemon/shutdown', z.object({}), z.object({ ok: z.literal(true) }), {
  kind: 'command',
  scope: 'admin',
  doc: 'Stop the daemon gracefully (finish in-flight writes, remove the runtime file).',
});

export const Ping = defineRequest('daemon/ping', z.object({}), z.object({ time: IsoTime }), {
  kind: 'query',
  doc: 'Cheapest possible round trip; answers the daemon clock.',
});

export const TokenScope = z.enum(['read', 'write', 'admin']);
export const TokenInfo = z.object({
  name: z.string(),
  scope: TokenScope,
  createdAt: IsoTime,
  createdBy: z.string(),
});

export const CreateToken = defineRequest(
  'auth/createToken',
  z.object({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z][a-z0-9_-]*$/, 'token names are lower-case words with - and _')
      .refine((n) => n !== 'owner', '"owner" is reserved'),
    scope: TokenScope,
  }),
  TokenInfo.extend({
    /** The bearer token. Shown once; the daemon keeps only its SHA-256. */
    token: z.string(),
  }),
  { kind: 'command', scope: 'admin', doc: 'Mint a named, scoped token for a service or script.' },
);

export const ListTokens = defineRequest('auth/listTokens', z.object({}), z.object({ tokens: z.array(TokenInfo) }), {
  kind: 'query',
  scope: 'admin',
  doc: 'Named tokens (never their values).',
});

export const RevokeToken = defineRequest(
  'auth/revokeToken',
  z.object({ name: z.string().min(1).max(64) }),
  z.object({ ok: z.literal(true) }),
  { kind: 'command', scope: 'admin', doc: 'Revoke a named token; its open connections are closed.' },
);

export const DidShutdown = defineNotification(
  'daemon/didShutdown',
  z.object({ reason: z.string() }),
  'The daemon is stopping; reconnect later.',
);
