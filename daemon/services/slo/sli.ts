import type { SloDefinition, SloFilter, SloSample } from '../../protocol/slo';

const patternCache = new Map<string, RegExp>();

/** `*` matches one path segment, `**` any number of segments (including none). */
export function compileRoutePattern(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (re) return re;
  const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const segments = pattern.split('/');
  let source = '';
  segments.forEach((seg, i) => {
    if (seg === '**') {
      // Any number of segments, including none (so `/api/**` matches `/api` too).
      source += i === 0 ? '.*' : '(?:/.*)?';
      return;
    }
    const body = seg === '*' ? '[^/]+' : escape(seg).replace(/\*/g, '[^/]*');
    source += i === 0 ? body : `/${body}`;
  });
  re = new RegExp(`^${source}/?$`);
  // Patterns come from SLO definitions: a small set.
  if (patternCache.size > 1000) patternCache.clear();
  patternCache.set(pattern, re);
  return re;
}

export function matchesFilter(filter: SloFilter, sample: SloSample): boolean {
  if (filter.service !== undefined && filter.service !== sample.service) return false;
  if (filter.method !== undefined && filter.method.toUpperCase() !== sample.method.toUpperCase()) return false;
  if (filter.routePattern !== undefined && !compileRoutePattern(filter.routePattern).test(sample.route)) return false;
  return true;
}

/** How a sample counts for an SLO: good, bad, or not at all. */
export function classify(slo: Pick<SloDefinition, 'sli' | 'filter'>, sample: SloSample): 'good' | 'bad' | 'ignored' {
  if (!matchesFilter(slo.filter, sample)) return 'ignored';
  const sli = slo.sli;
  switch (sli.kind) {
    case 'availability':
      return sample.status >= 500 || sample.timedOut === true ? 'bad' : 'good';
    case 'latency':
      return sample.durationMs <= sli.thresholdMs ? 'good' : 'bad';
    case 'errorRate':
      return sample.status < 400 || sli.expectedClientErrors.includes(sample.status) ? 'good' : 'bad';
    case 'customRatio':
      return sample.good === undefined ? 'ignored' : sample.good ? 'good' : 'bad';
  }
}
