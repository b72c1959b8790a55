import type { ConnectionStateName } from '../../webview/protocol/connection';

/** The daemon this window talks to, as its runtime file described it. */
export interface DaemonEndpoint {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  readonly daemonVersion: string;
  /** When the daemon started (ISO-8601). */
  readonly startedAt: string;
  readonly dataDir: string;
}

/** Where this window stands with its daemon; `kind` is the state name the UI shows. */
export type DaemonState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'starting' }
  | { readonly kind: 'connected'; readonly daemon: DaemonEndpoint }
  | { readonly kind: 'reconnecting'; readonly daemon: DaemonEndpoint }
  | {
      readonly kind: 'stopped';
      /** One sentence for the user: why there is no daemon. */
      readonly reason: string;
      /** True when stopping was not asked for (a crash, a failed start): the UI shows an error. */
      readonly failure: boolean;
    };

// The state names the dashboards receive must be exactly the ones this union uses.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const stateNamesMatch: Same<DaemonState['kind'], ConnectionStateName> = true;
void stateNamesMatch;
