import { describe, expect, it } from 'vitest';
import type { BrokerStatus } from '../../daemon/protocol';
import { makeTempDir, runDaemonToExit, useDaemons } from '../integration/helpers/daemonProcess';

// No broker needed: the daemon's start-up checks of MESSAGE_BROKER and the in-memory default.
describe('MESSAGE_BROKER at daemon start', () => {
  const start = useDaemons();

  it('refuses to start with an unknown broker or a bad address, naming the variable', async () => {
    // `npm run test:backends` exports KAFKA_BROKERS and RABBITMQ_URL for the other suites: blank them
    // here, or the valid KAFKA_BROKERS would win over the bad KAFKA_BOOTSTRAP_SERVERS and the daemon
    // would start. A temp data dir keeps a daemon that did start away from the user's own.
    const clean = { KAFKA_BROKERS: '', RABBITMQ_URL: '' };
    const dataDir = ['--data-dir', makeTempDir('cf-broker-settings-')];
    const unknown = await runDaemonToExit(['--port', '0', ...dataDir], { env: { ...clean, MESSAGE_BROKER: 'redis' }, timeoutMs: 60_000 });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('MESSAGE_BROKER: must be in_memory, kafka or rabbitmq (got "redis")');
    const badAddress = await runDaemonToExit(['--port', '0', ...dataDir], { env: { ...clean, MESSAGE_BROKER: 'kafka', KAFKA_BOOTSTRAP_SERVERS: 'no-port' }, timeoutMs: 60_000 });
    expect(badAddress.code).toBe(1);
    expect(badAddress.stderr).toContain('KAFKA_BOOTSTRAP_SERVERS: each broker must be host:port');
  });

  it('defaults to the embedded log only, over RPC and REST', async () => {
    const d = await start();
    const c = await d.connect();
    const s = await c.request<BrokerStatus>('brokers/status', {});
    expect(s).toMatchObject({ kind: 'in_memory', connected: true, outboxLag: 0, publishedSinceStart: 0 });
    expect(s.headSeq).toBe(s.lastPublishedSeq);
    const rest = await d.http('/api/brokers/status');
    expect(rest.status).toBe(200);
    expect(((await rest.json()) as BrokerStatus).kind).toBe('in_memory');
  });
});
