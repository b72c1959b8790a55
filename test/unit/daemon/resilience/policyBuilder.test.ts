import { describe, expect, it } from 'vitest';
import { BULKHEAD_TEMPLATES, policyBuilder } from '../../../../daemon/client';
import type { ParamsOf, ReportStats } from '../../../../daemon/protocol';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('client policy builder', () => {
  it('answers the seed shape { success, result?, error? } and never throws', async () => {
    const p = policyBuilder();
    expect(await p.call('database', async () => 'rows')).toEqual({ success: true, result: 'rows' });
    const failed = await p.call('database', () => {
      throw new Error('connection reset');
    });
    expect(failed.success).toBe(false);
    expect(failed.error?.message).toBe('connection reset');
    p.dispose();
  });

  it('builds each seed template with its limits, and declared services with their own', () => {
    const p = policyBuilder().service('orders-db', { template: 'database', timeoutMs: 5_000 }).service('thumbnailer', { maxConcurrent: 2, maxQueue: 1 });
    expect(BULKHEAD_TEMPLATES).toEqual({
      database: { maxConcurrent: 20, maxQueue: 50, timeoutMs: 30_000 },
      llm: { maxConcurrent: 10, maxQueue: 100, timeoutMs: 60_000 },
      external_api: { maxConcurrent: 15, maxQueue: 50, timeoutMs: 30_000 },
      file_operations: { maxConcurrent: 5, maxQueue: 20, timeoutMs: 20_000 },
    });
    void p.call('file_operations', async () => undefined);
    const byId = Object.fromEntries(p.stats().map((s) => [s.serviceId, s]));
    expect(byId['orders-db']).toMatchObject({ template: 'database', maxConcurrent: 20, maxQueue: 50, timeoutMs: 5_000 });
    expect(byId.thumbnailer).toMatchObject({ maxConcurrent: 2, maxQueue: 1, timeoutMs: 30_000 });
    expect(byId.thumbnailer?.template).toBeUndefined();
    expect(byId.file_operations).toMatchObject({ template: 'file_operations', maxConcurrent: 5, maxQueue: 20 });
  });

  it('rejects beyond the bulkhead, opens the breaker after consecutive failures, and falls back', async () => {
    const p = policyBuilder().service('api', { maxConcurrent: 1, maxQueue: 0, breaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 } });
    const gate = deferred();
    const running = p.call('api', () => gate.promise);
    const rejected = await p.call('api', async () => 'never');
    expect(rejected.success).toBe(false);
    gate.resolve();
    await running;
    for (let i = 0; i < 2; i++) await p.call('api', () => Promise.reject(new Error('503')));
    const shortCircuited = await p.call('api', async () => 'never');
    expect(shortCircuited.success).toBe(false);
    expect(p.stats()[0]).toMatchObject({ successes: 1, failures: 2, rejected: 1, shortCircuited: 1, breakerState: 'open', breakerTransitions: 1 });

    const withFallback = policyBuilder().service('llm', { fallback: (e) => `cached answer (${e.message})` });
    expect(await withFallback.call('llm', () => Promise.reject(new Error('overloaded')))).toEqual({ success: true, result: 'cached answer (overloaded)', fallback: true });
    expect(withFallback.stats()[0]).toMatchObject({ failures: 1, fallbacks: 1 });
  });

  it('times out an operation and aborts its signal', async () => {
    const p = policyBuilder().service('slow', { timeoutMs: 20 });
    let aborted = false;
    const r = await p.call('slow', (signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted'))))));
    expect(r.success).toBe(false);
    expect(aborted).toBe(true);
    expect(p.stats()[0]).toMatchObject({ timedOut: 1 });
  });

  it('reports stats with resilience/reportStats in the background; a failed report is dropped, not thrown', async () => {
    const sent: ParamsOf<typeof ReportStats>[] = [];
    let fail = true;
    const client = {
      request: (async (type: typeof ReportStats, params: ParamsOf<typeof ReportStats>) => {
        expect(type.method).toBe('resilience/reportStats');
        if (fail) throw new Error('daemon away');
        sent.push(params);
        return { accepted: params.policies.length };
      }) as never,
    };
    const p = policyBuilder({ client, clientId: 'worker-1', reportIntervalMs: 60_000 });
    await p.call('database', async () => 1);
    await expect(p.reportNow()).resolves.toBeUndefined();
    fail = false;
    await p.reportNow();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ clientId: 'worker-1', policies: [{ serviceId: 'database', successes: 1, template: 'database' }] });
    // Nothing changed since: a non-forced report is skipped.
    await p.reportNow(false);
    expect(sent).toHaveLength(1);
    p.dispose();
  });
});
