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

/** How a sample counts for one SLO, with its filter compiled once. */
export type Classifier = (sample: SloSample) => 'good' | 'bad' | 'ignored';

/** Most distinct routes a classifier remembers its pattern's verdict for (routes are templates: a small set). */
const ROUTE_MEMO_MAX = 4096;

/** `classify` for one SLO with the filter precomputed: upper-cased method, compiled pattern, memoised route verdicts. */
export function compileClassifier(slo: Pick<SloDefinition, 'sli' | 'filter'>): Classifier {
  const { service, method, routePattern } = slo.filter;
  const upperMethod = method?.toUpperCase();
  const pattern = routePattern === undefined ? undefined : compileRoutePattern(routePattern);
  const routeMemo = new Map<string, boolean>();
  const routeMatches = (route: string): boolean => {
    let hit = routeMemo.get(route);
    if (hit === undefined) {
      hit = pattern!.test(route);
      if (routeMemo.size >= ROUTE_MEMO_MAX) routeMemo.clear();
      routeMemo.set(route, hit);
    }
    return hit;
  };
  const matches = (sample: SloSample): boolean =>
    (service === undefined || service === sample.service) &&
    (upperMethod === undefined || upperMethod === sample.method || upperMethod === sample.method.toUpperCase()) &&
    (pattern === undefined || routeMatches(sample.route));
  const sli = slo.sli;
  switch (sli.kind) {
    case 'availability':
      return (s) => (!matches(s) ? 'ignored' : s.status >= 500 || s.timedOut === true ? 'bad' : 'good');
    case 'latency':
      return (s) => (!matches(s) ? 'ignored' : s.durationMs <= sli.thresholdMs ? 'good' : 'bad');
    case 'errorRate': {
      const expected = new Set(sli.expectedClientErrors);
      return (s) => (!matches(s) ? 'ignored' : s.status < 400 || expected.has(s.status) ? 'good' : 'bad');
    }
    case 'customRatio':
      return (s) => (!matches(s) || s.good === undefined ? 'ignored' : s.good ? 'good' : 'bad');
  }
}
