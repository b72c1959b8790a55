import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveDaemonSettings } from '../../../extension/daemon/settingsModel';

const env = { defaultDataDir: '/home/dev/.local/share/cogniforge', home: '/home/dev' };

describe('resolveDaemonSettings', () => {
  it('uses the defaults when nothing is set', () => {
    expect(resolveDaemonSettings({}, env)).toEqual({
      settings: { port: 5000, dataDir: env.defaultDataDir, autoStart: true, nodePath: '' },
      warnings: [],
    });
  });

  it('treats an empty data dir as the shared default', () => {
    expect(resolveDaemonSettings({ dataDir: '  ' }, env).settings.dataDir).toBe(env.defaultDataDir);
  });

  it('expands ~ and resolves relative dirs from home, not from the cwd', () => {
    expect(resolveDaemonSettings({ dataDir: '~/cf-data' }, env).settings.dataDir).toBe(join('/home/dev', 'cf-data'));
    expect(resolveDaemonSettings({ dataDir: 'cf-data' }, env).settings.dataDir).toBe(join('/home/dev', 'cf-data'));
    expect(resolveDaemonSettings({ dataDir: '/srv/cf' }, env).settings.dataDir).toBe('/srv/cf');
  });

  it('keeps port 0 (any free port) and valid ports', () => {
    expect(resolveDaemonSettings({ port: 0 }, env).settings.port).toBe(0);
    expect(resolveDaemonSettings({ port: 6123 }, env).settings.port).toBe(6123);
  });

  it('replaces invalid values by defaults and says so', () => {
    const r = resolveDaemonSettings({ port: 99999, autoStart: 'yes', nodePath: 3, dataDir: 42 }, env);
    expect(r.settings).toEqual({ port: 5000, dataDir: env.defaultDataDir, autoStart: true, nodePath: '' });
    expect(r.warnings).toHaveLength(4);
    expect(r.warnings[0]).toContain('cogniforge.daemon.port');
  });

  it('honours autoStart false and trims the node path', () => {
    const r = resolveDaemonSettings({ autoStart: false, nodePath: ' /usr/bin/node ' }, env);
    expect(r.settings.autoStart).toBe(false);
    expect(r.settings.nodePath).toBe('/usr/bin/node');
  });
});
