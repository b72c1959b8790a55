import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ExportSlos, ImportSlos } from '../../../../daemon/protocol';
import { SloSpec, type SloDefinition } from '../../../../daemon/protocol/slo';
import { ManualClock } from '../../../../daemon/services/shared/clock';
import { parseOpenSlo, toOpenSlo } from '../../../../daemon/services/slo/openSlo';
import { SloProjection } from '../../../../daemon/services/slo/sloProjection';
import { SloService } from '../../../../daemon/services/slo/sloService';
import { MemoryEventLog } from '../support/memoryStore';

function setup() {
  const log = new MemoryEventLog();
  const clock = new ManualClock(Date.parse('2026-03-01T12:00:00Z'));
  const projection = new SloProjection();
  const store = log.open({ clock, projections: [projection] });
  return { log, clock, service: new SloService(store, projection, clock) };
}

const withoutTimes = ({ createdAt: _c, updatedAt: _u, ...rest }: SloDefinition) => rest;

const AVAILABILITY = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  displayName: Checkout availability
  labels:
    team: [payments]
spec:
  service: checkout
  indicator:
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource: { type: CogniForge, spec: { sli: availability, count: good } }
        total:
          metricSource: { type: CogniForge, spec: { sli: availability, count: total, service: checkout, routePattern: /pay/** } }
  timeWindow:
    - duration: 4w
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - targetPercent: 99.5
`;

/** AVAILABILITY with one line replaced. */
const variant = (from: string, to: string) => {
  expect(AVAILABILITY).toContain(from);
  return AVAILABILITY.replace(from, to);
};

describe('OpenSLO v1', () => {
  it('round-trips the three seed SLOs: export, import into a fresh service, equal definitions', async () => {
    const a = setup();
    await a.service.seedDefaults();
    const yaml = a.service.exportOpenSlo(undefined);
    expect(yaml.split(/^---$/m)).toHaveLength(3);
    const b = setup();
    const { slos: imported } = await b.service.importOpenSlo(yaml, false, 'owner');
    expect(imported.map(withoutTimes)).toEqual(a.service.list().map((s) => withoutTimes(s.slo)));
    expect(b.service.get('latency_p99_30d').slo.sli).toEqual({ kind: 'latency', thresholdMs: 500 });
    expect(b.log.ofType('slo.created')).toHaveLength(3);
  });

  it('round-trips every SLI kind with filters, labels, aliases and custom alerting', async () => {
    const a = setup();
    const specs = [
      { id: 'lat_checkout', name: 'Checkout p99', sli: { kind: 'latency', thresholdMs: 250 }, objective: 0.95, windowDays: 7, filter: { service: 'checkout', method: 'POST', routePattern: '/pay/*' }, labels: { team: 'pay' } },
      { id: 'err_search', name: 'Search errors', sli: { kind: 'errorRate', expectedClientErrors: [404, 409] }, objective: 0.999, windowDays: 28, alerting: { minEvents: 5, budgetNotices: [0.5], absentAfterMinutes: 0 } },
      { id: 'jobs_ok', name: 'Jobs', sli: { kind: 'customRatio' }, objective: 0.9 },
    ];
    for (const s of specs) await a.service.create(SloSpec.parse(s), 'owner');
    const yaml = a.service.exportOpenSlo(['lat_checkout', 'err_search', 'jobs_ok']);
    const latencyDoc = parse(yaml.split(/^---$/m)[0]!) as { spec: { indicator: { spec: unknown }; objectives: unknown[] } };
    expect(latencyDoc.spec.indicator.spec).toEqual({
      thresholdMetric: { metricSource: { type: 'CogniForge', spec: { sli: 'latency', service: 'checkout', method: 'POST', routePattern: '/pay/*' } } },
    });
    expect(latencyDoc.spec.objectives).toEqual([{ displayName: 'Checkout p99', target: 0.95, op: 'lte', value: 250 }]);
    const b = setup();
    const { slos: imported } = await b.service.importOpenSlo(yaml, false, 'owner');
    expect(imported.map(withoutTimes)).toEqual(['lat_checkout', 'err_search', 'jobs_ok'].map((id) => withoutTimes(a.service.get(id).slo)));
  });

  it('reads documents written by hand: names, label lists, weeks and targetPercent', () => {
    const [slo] = parseOpenSlo(AVAILABILITY);
    expect(slo!.spec).toMatchObject({
      id: 'checkout_availability',
      name: 'Checkout availability',
      service: 'checkout',
      sli: { kind: 'availability' },
      objective: 0.995,
      windowDays: 28,
      filter: { service: 'checkout', routePattern: '/pay/**' },
      labels: { team: 'payments' },
    });
    expect(toOpenSlo({ ...slo!.spec, aliases: [], createdAt: '', updatedAt: '' }).metadata).toMatchObject({ name: 'checkout-availability' });
  });

  it.each([
    ['budgetingMethod: Occurrences', 'budgetingMethod: Timeslices', 'spec.budgetingMethod: only Occurrences is supported'],
    ['      isRolling: true', '      isRolling: false', 'spec.timeWindow.0.isRolling: only rolling windows are supported'],
    ['duration: 4w', 'duration: 1h', 'spec.timeWindow.0.duration: give whole days or weeks'],
    ['duration: 4w', 'duration: 100d', 'spec.timeWindow.0.duration: Too big'],
    ['kind: SLO', 'kind: Service', 'kind: only kind SLO is supported'],
    ['apiVersion: openslo/v1', 'apiVersion: openslo/v2alpha', 'apiVersion: only openslo/v1 is supported'],
    ['type: CogniForge, spec: { sli: availability, count: total', 'type: Prometheus, spec: { sli: availability, count: total', 'spec.indicator.spec.ratioMetric.total.metricSource.type: only CogniForge metric sources are supported'],
    ['count: total,', 'count: total, query: up,', 'spec.indicator.spec.ratioMetric.total.metricSource.spec.query: not supported by CogniForge'],
    ['    - targetPercent: 99.5', '    - target: 1.5', 'spec.objectives.0.target: objective must be < 1'],
    ['    - targetPercent: 99.5', '    - target: 0.9\n      timeSliceTarget: 0.9', 'spec.objectives.0.timeSliceTarget: only Occurrences budgeting is supported'],
    ['  budgetingMethod: Occurrences', '  budgetingMethod: Occurrences\n  alertPolicies: [x]', 'spec.alertPolicies: alert policies are not supported'],
    ['  service: checkout', '  service: checkout\n  indicatorRef: my-sli', 'spec.indicatorRef: only an inline indicator'],
    ['    team: [payments]', '    team: [payments, billing]', 'metadata.labels.team: only one value per label is supported'],
    ['  displayName: Checkout availability', '  displayName: Checkout availability\n  owner: me', 'metadata.owner: not supported by CogniForge'],
  ])('rejects %s → %s naming the field', (from, to, message) => {
    expect(() => parseOpenSlo(variant(from, to))).toThrow(`document 1: ${message}`);
  });

  it('rejects a whole stream when one document is bad, and duplicates, writing nothing', async () => {
    const env = setup();
    await env.service.seedDefaults();
    const before = env.log.records.length;
    const second = variant('name: checkout-availability', 'name: other').replace('budgetingMethod: Occurrences', 'budgetingMethod: RatioTimeslices');
    await expect(env.service.importOpenSlo(`${AVAILABILITY}---\n${second}`, false, 'owner')).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
      message: 'yaml: document 2: spec.budgetingMethod: only Occurrences is supported',
      data: { issues: [{ path: 'yaml', document: 1, field: 'spec.budgetingMethod' }] },
    });
    await expect(env.service.importOpenSlo(`${AVAILABILITY}---\n${AVAILABILITY}`, false, 'owner')).rejects.toMatchObject({ code: ErrorCode.Duplicate, message: expect.stringContaining('document 2: metadata.name') });
    const seedAgain = env.service.exportOpenSlo(['slo_err_30d']);
    await expect(env.service.importOpenSlo(seedAgain, false, 'owner')).rejects.toMatchObject({ code: ErrorCode.Duplicate });
    await expect(env.service.importOpenSlo('kind: [unclosed', false, 'owner')).rejects.toMatchObject({ message: expect.stringContaining('document 1: invalid YAML') });
    expect((await env.service.importOpenSlo(AVAILABILITY, true, 'owner')).slos).toHaveLength(1);
    expect(env.log.records.length).toBe(before);
    expect(ImportSlos.params.safeParse({ yaml: '' }).error?.issues[0]?.path).toEqual(['yaml']);
    expect(ExportSlos.params.safeParse({ ids: [] }).error?.issues[0]?.path).toEqual(['ids']);
    expect(() => env.service.exportOpenSlo(['nope'])).toThrow(expect.objectContaining({ code: ErrorCode.NotFound, data: expect.objectContaining({ path: 'ids.0' }) }));
  });
});

describe('OpenSLO import, replace mode', () => {
  it('redefines SLOs named by id in one append, creates the rest, keeps creation time and aliases, and notifies updates', async () => {
    const env = setup();
    await env.service.seedDefaults();
    const created = env.service.get('slo_avail_30d').slo.createdAt;
    env.clock.advance(60_000);
    const seed = parse(env.service.exportOpenSlo(['slo_avail_30d'])) as { spec: { objectives: { target: number }[] } };
    seed.spec.objectives[0]!.target = 0.99;
    const yaml = `${stringify(seed)}---\n${AVAILABILITY}`;
    const before = env.log.records.length;
    const dry = await env.service.importOpenSlo(yaml, true, 'owner', 'replace');
    expect(dry.replaced).toEqual(['slo_avail_30d']);
    expect(env.log.records.length).toBe(before);
    const result = await env.service.importOpenSlo(yaml, false, 'owner', 'replace');
    expect(result.replaced).toEqual(['slo_avail_30d']);
    expect(result.slos.map((s) => s.id)).toEqual(['slo_avail_30d', 'checkout_availability']);
    expect(env.log.records.length).toBe(before + 2);
    const avail = env.service.get('availability_30d').slo;
    expect(avail).toMatchObject({ id: 'slo_avail_30d', objective: 0.99, createdAt: created, aliases: ['availability_30d'] });
    expect(avail.updatedAt).not.toBe(created);
    expect(env.service.list()).toHaveLength(4);
  });

  it('is all or nothing: a document colliding with another SLO’s alias rejects the whole stream', async () => {
    const env = setup();
    await env.service.seedDefaults();
    const before = env.log.records.length;
    // The id is an alias of a seed SLO, not its id: no replacing by alias.
    const byAlias = variant('name: checkout-availability', 'name: availability_30d');
    await expect(env.service.importOpenSlo(`${AVAILABILITY}---\n${byAlias}`, false, 'owner', 'replace')).rejects.toMatchObject({ code: ErrorCode.Duplicate, message: expect.stringContaining('document 2: metadata.name') });
    expect(env.log.records.length).toBe(before);
    expect(ImportSlos.params.safeParse({ yaml: 'x', mode: 'merge' }).error?.issues[0]?.path).toEqual(['mode']);
  });
});
