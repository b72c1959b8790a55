import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../daemon/server/logger';
import { MetricsRegistry } from '../../../../daemon/server/metrics';
import { TokenBucket } from '../../../../daemon/server/rateLimit';
import { ManualClock } from '../../../../daemon/services/shared/clock';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and cumulative histograms in the text format', () => {
    const r = new MetricsRegistry();
    const c = r.counter('x_total', 'Things.');
    c.inc({ method: 'a/b', outcome: 'ok' });
    c.inc({ method: 'a/b', outcome: 'ok' }, 2);
    c.inc({ method: 'say "hi"\\', outcome: 'ok' });
    r.gauge('g', 'A gauge.', () => [{ labels: { stream: 's' }, value: 4 }]);
    const h = r.histogram('lat_seconds', 'Latency.', [0.1, 1]);
    h.observe({ method: 'a/b' }, 0.05);
    h.observe({ method: 'a/b' }, 0.5);
    h.observe({ method: 'a/b' }, 5);
    const text = r.render();
    expect(text).toContain('# TYPE x_total counter\n');
    expect(text).toContain('x_total{method="a/b",outcome="ok"} 3\n');
    expect(text).toContain('x_total{method="say \\"hi\\"\\\\",outcome="ok"} 1\n');
    expect(text).toContain('# TYPE g gauge\ng{stream="s"} 4\n');
    expect(text).toContain('lat_seconds_bucket{method="a/b",le="0.1"} 1\n');
    expect(text).toContain('lat_seconds_bucket{method="a/b",le="1"} 2\n');
    expect(text).toContain('lat_seconds_bucket{method="a/b",le="+Inf"} 3\n');
    expect(text).toContain('lat_seconds_sum{method="a/b"} 5.55\n');
    expect(text).toContain('lat_seconds_count{method="a/b"} 3\n');
    expect(() => r.counter('x_total', 'again')).toThrow(/twice/);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(10, 3, clock);
    expect([b.take(), b.take(), b.take()]).toEqual([0, 0, 0]);
    expect(b.take()).toBe(100);
    clock.advance(100);
    expect(b.take()).toBe(0);
    expect(new TokenBucket(0, 1, clock).take()).toBe(0);
  });
});

describe('createLogger', () => {
  it('writes one line per entry at or above the level, with fields', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', clock: new ManualClock(0), write: (l) => lines.push(l) });
    log.debug('hidden');
    log.info('listening on ws://127.0.0.1:5000/rpc', { port: 5000, dir: '/a b' });
    log.error('two\nlines');
    expect(lines).toEqual([
      '1970-01-01T00:00:00.000Z INFO listening on ws://127.0.0.1:5000/rpc port=5000 dir="/a b"\n',
      '1970-01-01T00:00:00.000Z ERROR two\\nlines\n',
    ]);
    expect(log.enabled('debug')).toBe(false);
  });
});
