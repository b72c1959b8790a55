import type { SloAlert, SloStatus } from '../../../daemon/protocol';
import { formatCount } from '../../../webview/protocol/format';
import { alertThresholds, formatBurnRate, formatObjective, formatPercent } from '../../../webview/protocol/sloDashboard';

/** A codicon with a theme colour id, e.g. `{ id: 'error', color: 'list.errorForeground' }`. */
export interface NodeIcon {
  readonly id: string;
  readonly color?: string;
}

/** A node of the SLOs tree; the provider turns it into a TreeItem. */
export type SloNode = SloRowNode | BurnWindowNode | AlertNode;

export interface SloRowNode {
  readonly kind: 'slo';
  /** Stable across refreshes, so VS Code keeps expansion and selection. */
  readonly id: string;
  readonly sloId: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  /** For `view/item/context` menus. */
  readonly contextValue: 'cogniforge.slo';
  readonly children: readonly (AlertNode | BurnWindowNode)[];
}

export interface BurnWindowNode {
  readonly kind: 'burnWindow';
  readonly id: string;
  readonly sloId: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
}

export interface AlertNode {
  readonly kind: 'alert';
  readonly id: string;
  readonly sloId: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  readonly icon: NodeIcon;
  readonly contextValue: 'cogniforge.sloAlert';
}

type Status = SloStatus['status'];

/** Icon per status; colours are theme colour ids so every theme (high contrast too) chooses its own. */
export const STATUS_ICONS: Readonly<Record<Status, NodeIcon>> = {
  healthy: { id: 'pass', color: 'testing.iconPassed' },
  warning: { id: 'warning', color: 'list.warningForeground' },
  critical: { id: 'error', color: 'list.errorForeground' },
  breached: { id: 'circle-slash', color: 'errorForeground' },
};

/** Worst first: the order the status bar and the SLO pickers use. */
const STATUS_RANK: Readonly<Record<Status, number>> = { breached: 0, critical: 1, warning: 2, healthy: 3 };

/** `82.4% budget left`, or `-20.0% budget left (overspent)`; `no traffic yet` before any event. */
export function budgetText(status: SloStatus): string {
  if (status.budget.totalEvents === 0) return 'no traffic yet';
  const left = `${formatPercent(status.budget.remainingRatio)} budget left`;
  return status.budget.remainingRatio < 0 ? `${left} (overspent)` : left;
}

/** SLOs by name; each with its burn windows and active alerts as children. */
export function buildSloNodes(statuses: readonly SloStatus[], nowMs: number): SloRowNode[] {
  return [...statuses]
    .sort((a, b) => a.slo.name.localeCompare(b.slo.name) || a.slo.id.localeCompare(b.slo.id))
    .map((s) => {
      const { slo, budget } = s;
      const thresholds = alertThresholds(slo.alerting, slo.windowDays);
      const windows: BurnWindowNode[] = s.burnRates.map((b) => {
        const t = thresholds[b.window];
        const limits = [t?.page !== undefined ? `page ≥ ${formatBurnRate(t.page)}` : '', t?.ticket !== undefined ? `ticket ≥ ${formatBurnRate(t.ticket)}` : '']
          .filter(Boolean)
          .join(', ');
        const lowest = Math.min(t?.page ?? Infinity, t?.ticket ?? Infinity);
        const icon: NodeIcon =
          b.burnRate >= lowest ? { id: 'flame', color: 'list.errorForeground' } : b.burnRate > 1 ? { id: 'arrow-up', color: 'list.warningForeground' } : { id: 'dash' };
        return {
          kind: 'burnWindow',
          id: `slo:${slo.id}:burn:${b.window}`,
          sloId: slo.id,
          label: `Burn rate ${b.window}`,
          description: limits === '' ? formatBurnRate(b.burnRate) : `${formatBurnRate(b.burnRate)} · ${limits}`,
          tooltip: [
            `Burn rate over ${b.window}: ${formatBurnRate(b.burnRate)} (1× spends the budget exactly over the ${slo.windowDays}-day window)`,
            `${formatCount(b.badEvents)} bad of ${formatCount(b.totalEvents)} events`,
            limits === '' ? 'No alert rule reads this window' : `Alert thresholds: ${limits}`,
          ].join('\n'),
          icon,
        };
      });
      const alerts = s.activeAlerts.map((a) => alertNode(a, nowMs));
      const alertSuffix = alerts.length === 0 ? '' : ` · ${alerts.length} alert${alerts.length === 1 ? '' : 's'}`;
      const rates = s.burnRates.map((b) => `  ${b.window.padEnd(4)} ${formatBurnRate(b.burnRate)}`);
      return {
        kind: 'slo',
        id: `slo:${slo.id}`,
        sloId: slo.id,
        label: slo.name,
        description: `${budgetText(s)}${alertSuffix}`,
        tooltip: [
          `${slo.name} (${slo.id}) — ${s.status}`,
          `Objective ${formatObjective(slo.objective)} over ${slo.windowDays} days, service ${slo.service}`,
          budget.totalEvents === 0
            ? 'No events in the window yet'
            : `Budget: ${formatCount(budget.consumedEvents)} of ${formatCount(Math.floor(budget.budgetEvents))} allowed bad events used (${formatPercent(budget.remainingRatio)} left); SLI ${formatPercent(budget.sliRatio ?? 1, 3)}`,
          `Burn rates (burn level ${s.burnLevel}):`,
          ...rates,
          ...(alerts.length > 0 ? [`Active alerts: ${s.activeAlerts.map((a) => `${a.severity} (${a.rule.longWindow}/${a.rule.shortWindow})`).join(', ')}`] : []),
        ].join('\n'),
        icon: STATUS_ICONS[s.status],
        contextValue: 'cogniforge.slo',
        children: [...alerts, ...windows],
      };
    });
}

function alertNode(a: SloAlert, nowMs: number): AlertNode {
  const firedMs = Date.parse(a.firedAt);
  const ago = Number.isNaN(firedMs) ? a.firedAt : formatAgo(Math.max(0, nowMs - firedMs));
  return {
    kind: 'alert',
    id: `slo:${a.sloId}:alert:${a.alertId}`,
    sloId: a.sloId,
    label: `${a.severity === 'page' ? 'Page' : 'Ticket'} alert`,
    description: `${a.rule.longWindow} ${formatBurnRate(a.longBurnRate)} & ${a.rule.shortWindow} ${formatBurnRate(a.shortBurnRate)} ≥ ${formatBurnRate(a.rule.threshold)} · ${ago}`,
    tooltip: [
      `${a.severity === 'page' ? 'Page' : 'Ticket'} alert, fired ${a.firedAt}`,
      `Burn rate ${formatBurnRate(a.longBurnRate)} over ${a.rule.longWindow} and ${formatBurnRate(a.shortBurnRate)} over ${a.rule.shortWindow}; both above ${formatBurnRate(a.rule.threshold)}`,
    ].join('\n'),
    icon: a.severity === 'page' ? { id: 'bell-dot', color: 'list.errorForeground' } : { id: 'bell', color: 'list.warningForeground' },
    contextValue: 'cogniforge.sloAlert',
  };
}

function formatAgo(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours}h ${minutes % 60}m ago` : `${Math.floor(hours / 24)}d ago`;
}

/** The SLO the status bar shows: lowest remaining budget among SLOs with traffic, then worst status. */
export function worstSlo(statuses: readonly SloStatus[]): SloStatus | undefined {
  return [...statuses].sort(
    (a, b) =>
      Number(a.budget.totalEvents === 0) - Number(b.budget.totalEvents === 0) ||
      STATUS_RANK[a.status] - STATUS_RANK[b.status] ||
      a.budget.remainingRatio - b.budget.remainingRatio ||
      a.slo.name.localeCompare(b.slo.name),
  )[0];
}

export interface SloStatusBarView {
  readonly text: string;
  readonly tooltip: string;
  readonly sloId: string;
  /** Background: `error` for breached/critical, `warning` for warning, none when healthy. */
  readonly tone: 'error' | 'warning' | 'none';
}

/** The status bar item's content, or undefined when there is no SLO to show. */
export function statusBarView(statuses: readonly SloStatus[]): SloStatusBarView | undefined {
  const worst = worstSlo(statuses);
  if (!worst) return undefined;
  const icon = worst.status === 'healthy' ? '$(pulse)' : worst.status === 'warning' ? '$(warning)' : '$(error)';
  const budget = worst.budget.totalEvents === 0 ? 'no traffic' : `${formatPercent(worst.budget.remainingRatio)} budget`;
  return {
    text: `${icon} ${worst.slo.name}: ${budget}`,
    tooltip: `Worst SLO of ${statuses.length}: ${worst.slo.name} is ${worst.status}, ${budgetText(worst)}. Click to open its dashboard.`,
    sloId: worst.slo.id,
    tone: worst.status === 'breached' || worst.status === 'critical' ? 'error' : worst.status === 'warning' ? 'warning' : 'none',
  };
}

/** SLOs worst first, for the pickers. */
export function sortWorstFirst(statuses: readonly SloStatus[]): SloStatus[] {
  return [...statuses].sort((a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || a.slo.name.localeCompare(b.slo.name));
}

/** The warning a fired page alert shows; undefined for tickets and resolutions. */
export function pageAlertMessage(state: 'fired' | 'resolved', alert: SloAlert, sloName: string | undefined): string | undefined {
  if (state !== 'fired' || alert.severity !== 'page') return undefined;
  return (
    `SLO "${sloName ?? alert.sloId}" is burning its error budget fast: ${formatBurnRate(alert.longBurnRate)} over ${alert.rule.longWindow} ` +
    `and ${formatBurnRate(alert.shortBurnRate)} over ${alert.rule.shortWindow} (page threshold ${formatBurnRate(alert.rule.threshold)}).`
  );
}
