import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDaemon } from '../../../daemon/app';
import { parseConfig } from '../../../daemon/config';
import { silentLogger } from '../../../daemon/server/logger';

describe('README', () => {
  it('lists every REST route the daemon serves, with its RPC method', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cf-readme-'));
    const outcome = parseConfig(['--port', '0', '--data-dir', dataDir], {});
    if (outcome.action !== 'run') throw new Error('expected a run config');
    const daemon = await startDaemon(outcome.config, { log: silentLogger });
    try {
      const readme = readFileSync('README.md', 'utf8');
      const routes = daemon.rest.list();
      expect(routes.length).toBeGreaterThan(0);
      for (const r of routes) {
        expect(readme, `${r.verb} ${r.pattern}`).toContain(`| \`${r.verb} ${r.pattern}\` | \`${r.type.method}\` |`);
      }
    } finally {
      await daemon.stop('test done');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
