import { describe, expect, it } from 'vitest';
import { computeSpawnPlan, type DaemonSettings } from '../../../extension/daemon/spawnPlan';

const settings = (over: Partial<DaemonSettings> = {}): DaemonSettings => ({
  port: 5000,
  dataDir: '/home/dev/.local/share/cogniforge',
  autoStart: true,
  nodePath: '',
  ...over,
});

const base = {
  daemonScript: '/ext/dist/daemon.js',
  execPath: '/usr/share/code/code',
  env: { PATH: '/usr/bin', HOME: '/home/dev' },
};

describe('computeSpawnPlan', () => {
  it('runs the editor binary as node (ELECTRON_RUN_AS_NODE=1) when no node is configured', () => {
    const plan = computeSpawnPlan({ ...base, settings: settings() });
    expect(plan.command).toBe('/usr/share/code/code');
    expect(plan.env.ELECTRON_RUN_AS_NODE).toBe('1');
    expect(plan.env.PATH).toBe('/usr/bin');
  });

  it('runs a configured node without the Electron flag, even when the host had it set', () => {
    const plan = computeSpawnPlan({
      ...base,
      env: { ...base.env, ELECTRON_RUN_AS_NODE: '1' },
      settings: settings({ nodePath: '  /opt/node20/bin/node ' }),
    });
    expect(plan.command).toBe('/opt/node20/bin/node');
    expect(plan.env).not.toHaveProperty('ELECTRON_RUN_AS_NODE');
  });

  it('passes the script, port and data dir as flags and logs into the data dir', () => {
    const plan = computeSpawnPlan({ ...base, settings: settings({ port: 5123, dataDir: '/data/cf' }) });
    expect(plan.args).toEqual(['/ext/dist/daemon.js', '--port', '5123', '--data-dir', '/data/cf']);
    expect(plan.logFile).toBe('/data/cf/daemon.log');
  });

  it('passes port 0 through so the daemon picks a free port', () => {
    const plan = computeSpawnPlan({ ...base, settings: settings({ port: 0 }) });
    expect(plan.args.slice(1, 3)).toEqual(['--port', '0']);
  });

  it('refuses a port outside 0..65535', () => {
    expect(() => computeSpawnPlan({ ...base, settings: settings({ port: 70000 }) })).toThrow(RangeError);
    expect(() => computeSpawnPlan({ ...base, settings: settings({ port: 1.5 }) })).toThrow(RangeError);
  });

  it('does not modify the environment it was given', () => {
    const env = { PATH: '/usr/bin' };
    computeSpawnPlan({ ...base, env, settings: settings() });
    expect(env).toEqual({ PATH: '/usr/bin' });
  });
});
