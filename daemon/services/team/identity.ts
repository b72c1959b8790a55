import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BrokerSettingsError } from '../brokers/settings';
import { writeFileAtomic } from '../shared/atomicFile';

type Env = Readonly<Record<string, string | undefined>>;

/** Letters, digits, ".", "_" and "-", 1..64: safe in Kafka headers, consumer group names and logs. */
const DAEMON_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * This daemon's id among teammates: `COGNIFORGE_DAEMON_ID` when set, else the one stored in
 * `<data-dir>/daemon-id`, else a new `<host>-<6 hex>` written there (so it survives restarts and
 * the Kafka consumer group keeps its offsets). Two daemons must never share an id: a daemon skips
 * the events it reads back that carry its own id.
 */
export async function loadDaemonId(dataDir: string, env: Env): Promise<string> {
  const fromEnv = env.COGNIFORGE_DAEMON_ID?.trim();
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!DAEMON_ID.test(fromEnv)) throw new BrokerSettingsError(`COGNIFORGE_DAEMON_ID: 1 to 64 letters, digits, ".", "_" or "-" (got "${fromEnv}")`);
    return fromEnv;
  }
  const file = join(dataDir, 'daemon-id');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (DAEMON_ID.test(stored)) return stored;
    throw new BrokerSettingsError(`${file}: not a daemon id ("${stored.slice(0, 80)}"); fix or delete the file (a new id starts a new Kafka consumer group)`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40) || 'daemon';
  const id = `${host}-${randomBytes(3).toString('hex')}`;
  await mkdir(dataDir, { recursive: true });
  await writeFileAtomic(file, `${id}\n`);
  return id;
}
