import { BrokerSettingsError, type BrokerSettings } from '../brokers/settings';

type Env = Readonly<Record<string, string | undefined>>;

const ON = new Set(['1', 'true', 'on', 'yes']);
const OFF = new Set(['0', 'false', 'off', 'no']);

/** `COGNIFORGE_TEAM=on|off` (also 1/0, true/false, yes/no); unset = off. Throws naming the variable. */
export function teamModeRequested(env: Env): boolean {
  const raw = env.COGNIFORGE_TEAM?.trim().toLowerCase();
  if (raw === undefined || raw === '' || OFF.has(raw)) return false;
  if (ON.has(raw)) return true;
  throw new BrokerSettingsError(`COGNIFORGE_TEAM: must be on or off (got "${env.COGNIFORGE_TEAM ?? ''}")`);
}

/** Team mode shares events over Kafka only: refuse it with any other broker at start. */
export function checkTeamSettings(env: Env, broker: BrokerSettings): boolean {
  const on = teamModeRequested(env);
  if (on && broker.kind !== 'kafka') {
    throw new BrokerSettingsError(`COGNIFORGE_TEAM: team mode shares events through Kafka; set MESSAGE_BROKER=kafka (it is ${broker.kind})`);
  }
  return on;
}
