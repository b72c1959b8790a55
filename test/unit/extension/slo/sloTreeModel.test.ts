import { describe, expect, it } from 'vitest';
import { budgetText, buildSloNodes, pageAlertMessage, statusBarView, worstSlo } from '../../../../extension/features/slo/sloTreeModel';
import { pageAlert, sloStatus } from '../../webview/slo/sloFixtures';

const NOW = Date.parse('2026-11-27T12:00:00.000Z');

describe('buildSloNodes', () => {
  it('shows the remaining budget, negative when overspent, with the status icon', () => {
    const [row] = buildSloNodes([sloStatus({ status: 'breached', remainingRatio: -0.2 })], NOW);
    expect(row!.description).toBe('-20.0% budget left (overspent)');
    expect(row!.icon).toEqual({ id: 'circle-slash', color: 'errorForeground' });
    expect(row!.contextValue).toBe('cogniforge.slo');
  });

  it('says "no traffic yet" before any event instead of a made-up 100 %', () => {
    const [row] = buildSloNodes([sloStatus({ totalEvents: 0, badEvents: 0, remainingRatio: 1 })], NOW);
    expect(row!.description).toBe('no traffic yet');
  });

  it('gives one child per burn window with the workbook thresholds scaled to the window', () => {
    const [thirty] = buildSloNodes([sloStatus({ burnRates: { '1h': 15, '6h': 2 } })], NOW);
    const oneHour = thirty!.children.find((c) => c.id.endsWith(':burn:1h'))!;
    expect(oneHour.description).toBe('15× · page ≥ 14.4×');
    expect(oneHour.icon.id).toBe('flame');
    const sixHours = thirty!.children.find((c) => c.id.endsWith(':burn:6h'))!;
    expect(sixHours.description).toBe('2× · page ≥ 6×, ticket ≥ 1×');
    expect(thirty!.children.filter((c) => c.kind === 'burnWindow')).toHaveLength(8);

    // A 7-day window: 2 % of 7 days in 1 h is a burn rate of 3.36.
    const [seven] = buildSloNodes([sloStatus({ id: 'slo_7d', windowDays: 7 })], NOW);
    expect(seven!.children.find((c) => c.id.endsWith(':burn:1h'))!.description).toBe('0× · page ≥ 3.36×');
  });

  it('lists active alerts first, and mentions them on the row and in the tooltip', () => {
    const [row] = buildSloNodes([sloStatus({ alerts: [pageAlert()], burnRates: { '1h': 20 } })], NOW);
    expect(row!.description).toBe(`${budgetText(sloStatus({}))} · 1 alert`);
    const alert = row!.children[0]!;
    expect(alert.kind).toBe('alert');
    expect(alert.label).toBe('Page alert');
    expect(alert.description).toBe('1h 20× & 5m 31.5× ≥ 14.4× · 30m ago');
    expect(row!.tooltip).toContain('1h   20×');
    expect(row!.tooltip).toContain('Active alerts: page (1h/5m)');
  });

  it('sorts rows by name with stable ids', () => {
    const nodes = buildSloNodes([sloStatus({ id: 'b_slo', name: 'Zeta' }), sloStatus({ id: 'a_slo', name: 'Alpha' })], NOW);
    expect(nodes.map((n) => n.id)).toEqual(['slo:a_slo', 'slo:b_slo']);
  });
});

describe('worstSlo and the status bar', () => {
  it('picks the lowest budget among SLOs with traffic and colours the item by status', () => {
    const statuses = [
      sloStatus({ id: 'idle', name: 'Idle', totalEvents: 0, badEvents: 0, remainingRatio: 1 }),
      sloStatus({ id: 'ok', name: 'Fine', remainingRatio: 0.8 }),
      sloStatus({ id: 'bad', name: 'Checkout', status: 'critical', remainingRatio: 0.05 }),
    ];
    expect(worstSlo(statuses)?.slo.id).toBe('bad');
    expect(statusBarView(statuses)).toMatchObject({ text: '$(error) Checkout: 5.0% budget', sloId: 'bad', tone: 'error' });
    expect(statusBarView([])).toBeUndefined();
  });
});

describe('pageAlertMessage', () => {
  it('speaks only for fired page alerts', () => {
    const alert = pageAlert();
    expect(pageAlertMessage('fired', alert, 'API availability')).toBe(
      'SLO "API availability" is burning its error budget fast: 20× over 1h and 31.5× over 5m (page threshold 14.4×).',
    );
    expect(pageAlertMessage('resolved', alert, 'x')).toBeUndefined();
    expect(pageAlertMessage('fired', { ...alert, severity: 'ticket' }, 'x')).toBeUndefined();
  });
});
