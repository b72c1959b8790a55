import { ErrorCode, GetIncident, GetIncidentSloImpact, GetReview, type IncidentSloImpact, type Review } from '../../../daemon/protocol';
import type { HostToIncident, IncidentCommand, IncidentToHost } from '../../../webview/protocol/incident';
import type { DaemonSession } from '../../daemon/connection';
import type { DashboardChannel, DashboardController } from '../../webviews/dashboardHost';
import { errorText } from './incidentActions';

export interface IncidentPanelDeps {
  readonly session: Pick<DaemonSession, 'request'>;
  /** Runs one of the panel's fixed commands on the incident it shows (by UUID). */
  readonly runCommand: (command: IncidentCommand, incidentId: string) => void;
  readonly log: (level: 'info' | 'warn', message: string) => void;
  readonly onDispose: (controller: IncidentPanelController) => void;
}

/**
 * One incident panel: which incident it shows, loading it (with its review) when the webview is
 * ready, when the user picks another, and when the daemon says it changed.
 */
export class IncidentPanelController implements DashboardController<IncidentToHost> {
  private loading = 0;
  /** UUID once loaded; until then whatever reference (UUID or INC-n) it was opened with. */
  private ref: string | undefined;
  private number: string | undefined;

  constructor(
    private readonly channel: DashboardChannel<HostToIncident>,
    private readonly deps: IncidentPanelDeps,
    initial: string | undefined,
  ) {
    this.ref = initial;
  }

  /** Show another incident in this panel. */
  select(ref: string): void {
    this.ref = ref;
    this.number = undefined;
    void this.load();
  }

  /** The daemon changed an incident: reload when it is this panel's. */
  incidentChanged(id: string, number: string): void {
    if (this.ref === id || this.ref === number || this.number === number) void this.load();
  }

  onReady(): void {
    void this.load();
  }

  onVisibilityChange(): void {
    // A re-shown panel reloads and says `ready` again; nothing to do until then.
  }

  onMessage(message: Exclude<IncidentToHost, { type: 'ready' }>): void {
    switch (message.type) {
      case 'select':
        // A restored panel names its incident; a live panel that was just retargeted keeps the new one.
        if (this.ref === undefined) this.select(message.id);
        return;
      case 'refresh':
        void this.load();
        return;
      case 'runCommand':
        if (message.command === 'showLog') this.deps.runCommand('showLog', this.ref ?? '');
        else if (this.ref !== undefined) this.deps.runCommand(message.command, this.ref);
        return;
    }
  }

  dispose(): void {
    this.deps.onDispose(this);
  }

  private async load(): Promise<void> {
    const ref = this.ref;
    if (ref === undefined || !this.channel.visible) return;
    const attempt = ++this.loading;
    try {
      const incident = await this.deps.session.request(GetIncident, { id: ref });
      let review: Review | null = null;
      if (incident.hasReview) {
        try {
          review = await this.deps.session.request(GetReview, { incidentId: incident.id });
        } catch (e) {
          if ((e as { code?: unknown }).code !== ErrorCode.NotFound) throw e;
        }
      }
      let sloImpact: IncidentSloImpact[] | undefined;
      if (incident.linkedSlos.length > 0) {
        try {
          sloImpact = (await this.deps.session.request(GetIncidentSloImpact, { id: incident.id })).slos;
        } catch (e) {
          // The impact is extra: the incident still shows without it.
          this.deps.log('warn', `Incident panel: no SLO impact for ${incident.number}: ${errorText(e)}`);
        }
      }
      if (attempt !== this.loading) return;
      this.ref = incident.id;
      this.number = incident.number;
      this.channel.post({ type: 'incident', incident, review, ...(sloImpact ? { sloImpact } : {}), receivedAt: Date.now() });
    } catch (e) {
      if (attempt !== this.loading) return;
      this.deps.log('warn', `Incident panel: could not load ${ref}: ${errorText(e)}`);
      this.channel.post({ type: 'error', message: `Could not load ${ref}: ${errorText(e)}` });
    }
  }
}
