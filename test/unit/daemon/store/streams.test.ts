import { describe, expect, it } from 'vitest';
import { DEFAULT_STREAMS, matchesTypePattern } from '../../../../daemon/store';
import { StreamRouter } from '../../../../daemon/store/streams';

describe('type patterns', () => {
  it.each([
    ['api.request', 'api.request', true],
    ['api.request', 'api.requests', false],
    ['api.*', 'api.request', true],
    ['api.*', 'api', false],
    ['api.*', 'api.request.slow', false],
    ['api.**', 'api', true],
    ['api.**', 'api.request.slow', true],
    ['api.#', 'api.request', true],
    ['api.**', 'apix.request', false],
    ['*.error', 'api.error', true],
    ['*.error', 'error', false],
    ['**', 'anything.at.all', true],
    ['#', 'x', true],
    ['**.error', 'api.http.error', true],
    ['**.error', 'error', true],
    ['a.**.z', 'a.z', true],
    ['a.**.z', 'a.b.c.z', true],
    ['a.**.z', 'a.b.c', false],
    ['a-b.c_d', 'a-b.c_d', true],
    ['a.b', 'aXb', false],
  ])('%s vs %s → %s', (pattern, type, expected) => {
    expect(matchesTypePattern(pattern, type)).toBe(expected);
  });
});

describe('default streams', () => {
  const router = new StreamRouter(DEFAULT_STREAMS);
  it.each([
    ['api.request', 'api_events', 7],
    ['security.breach', 'security_events', 30],
    ['system.alert', 'system_events', 14],
    ['slo.sample.aggregated', 'slo_events', null],
    ['oncall.rotation.changed', 'incident_events', null],
    ['escalation.fired', 'incident_events', null],
    ['review.published', 'incident_events', null],
    ['backup.completed', 'dr_events', null],
    ['secret.rotated', 'config_events', null],
    ['governance.check', 'governance_events', null],
    ['resilience.breaker.opened', 'resilience_events', null],
    ['scheduler.timer.set', 'daemon_events', null],
    ['auth.token.created', 'daemon_events', null],
    ['orders.placed', 'default', null],
  ])('routes %s to %s (retention %s)', (type, stream, days) => {
    const s = router.resolve(type);
    expect(s.name).toBe(stream);
    expect(s.retentionDays).toBe(days);
  });

  it('adds a kept default stream when the configuration has none', () => {
    const r = new StreamRouter([{ name: 'only', retentionDays: 1, typePatterns: ['x.*'] }]);
    expect(r.resolve('y.z')).toMatchObject({ name: 'default', retentionDays: null });
  });
});
