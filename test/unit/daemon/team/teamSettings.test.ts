import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBrokerSettings } from '../../../../daemon/services/brokers/settings';
import { loadDaemonId } from '../../../../daemon/services/team/identity';
import { checkTeamSettings, teamModeRequested } from '../../../../daemon/services/team/settings';

describe('team mode settings', () => {
  it('reads COGNIFORGE_TEAM as on/off and refuses anything else, naming the variable', () => {
    for (const v of ['on', 'ON', '1', 'true', 'yes']) expect(teamModeRequested({ COGNIFORGE_TEAM: v })).toBe(true);
    for (const v of [undefined, '', 'off', '0', 'false', 'no']) expect(teamModeRequested({ COGNIFORGE_TEAM: v })).toBe(false);
    expect(() => teamModeRequested({ COGNIFORGE_TEAM: 'maybe' })).toThrow('COGNIFORGE_TEAM: must be on or off (got "maybe")');
  });

  it('needs Kafka', () => {
    expect(checkTeamSettings({ COGNIFORGE_TEAM: 'on' }, parseBrokerSettings({ MESSAGE_BROKER: 'kafka' }))).toBe(true);
    expect(() => checkTeamSettings({ COGNIFORGE_TEAM: 'on' }, parseBrokerSettings({ MESSAGE_BROKER: 'rabbitmq' }))).toThrow(
      'COGNIFORGE_TEAM: team mode shares events through Kafka; set MESSAGE_BROKER=kafka (it is rabbitmq)',
    );
    expect(() => checkTeamSettings({ COGNIFORGE_TEAM: 'on' }, parseBrokerSettings({}))).toThrow(/it is in_memory/);
    expect(checkTeamSettings({}, parseBrokerSettings({}))).toBe(false);
  });
});

describe('daemon id', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'cf-team-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('takes COGNIFORGE_DAEMON_ID, else keeps one made up once in <data-dir>/daemon-id', async () => {
    const d = dir();
    expect(await loadDaemonId(d, { COGNIFORGE_DAEMON_ID: 'ana-laptop' })).toBe('ana-laptop');
    const made = await loadDaemonId(d, {});
    expect(made).toMatch(/^[A-Za-z0-9._-]+-[0-9a-f]{6}$/);
    expect(readFileSync(join(d, 'daemon-id'), 'utf8').trim()).toBe(made);
    expect(await loadDaemonId(d, {})).toBe(made);
  });

  it('refuses an id that cannot name a consumer group, and a damaged file, saying what to do', async () => {
    const d = dir();
    await expect(loadDaemonId(d, { COGNIFORGE_DAEMON_ID: 'two words' })).rejects.toThrow('COGNIFORGE_DAEMON_ID: 1 to 64 letters, digits, ".", "_" or "-" (got "two words")');
    writeFileSync(join(d, 'daemon-id'), 'not/an id\n');
    await expect(loadDaemonId(d, {})).rejects.toThrow(/daemon-id: not a daemon id \("not\/an id"\); fix or delete the file/);
  });
});
