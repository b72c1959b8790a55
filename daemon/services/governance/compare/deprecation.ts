import type { ApiVersion, DeprecationPolicy } from '../../../protocol';
import type { RemovalDecision, RemovalPolicy, RemovedOperation } from './compareEngine';

const globCache = new Map<string, RegExp>();

/** `*` matches any run of characters (slashes too), as in the rate-limit policies' endpoint patterns. */
function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    re = new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(glob, re);
  }
  return re;
}

/** Trailing slashes aside, `/v1/orders/` is `/v1/orders`. */
const trimSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** Policies whose pattern matches `path` (and `method`, when the policy names methods), the most specific (longest pattern) first. */
export function policiesFor(policies: readonly DeprecationPolicy[], path: string, method?: string): DeprecationPolicy[] {
  const p = trimSlash(path);
  return policies
    .filter((pol) => globToRegExp(trimSlash(pol.pattern)).test(p) && (method === undefined || pol.methods === undefined || pol.methods.includes(method.toLowerCase() as never)))
    .sort((a, b) => b.pattern.length - a.pattern.length || a.id.localeCompare(b.id));
}

/**
 * Headers for a path under a deprecation policy: `Deprecation` (RFC 9745, `@<unix seconds>`),
 * `Sunset` (RFC 8594 HTTP-date) and `Link` rel="deprecation" to the migration guide.
 */
export function headersForPolicy(policy: DeprecationPolicy): Record<string, string> {
  const headers: Record<string, string> = { Deprecation: `@${Math.floor(Date.parse(policy.deprecatedAt) / 1000)}` };
  if (policy.sunsetAt) headers['Sunset'] = new Date(policy.sunsetAt).toUTCString();
  if (policy.link) headers['Link'] = `<${policy.link}>; rel="deprecation"; type="text/html"`;
  return headers;
}

/** Merge a policy's headers into a version's: the policy's dates win (it is the more specific), links add up. */
export function mergeHeaders(version: Record<string, string>, policy: Record<string, string>): Record<string, string> {
  const out = { ...version, ...policy };
  if (version['Link'] && policy['Link'] && version['Link'] !== policy['Link']) out['Link'] = `${version['Link']}, ${policy['Link']}`;
  return out;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Whether removing an operation is allowed: a deprecation policy covering it whose sunset passed, an
 * API version it is served under (a path or base-path segment names it) that is sunset, retired or
 * past its sunset date, or its own `deprecated: true` with an `x-sunset` date that passed.
 * Otherwise the removal is breaking, with a note saying what was missing.
 */
export function removalPolicy(input: { now: number; versions: readonly ApiVersion[]; policies: readonly DeprecationPolicy[] }): RemovalPolicy {
  const { now } = input;
  return (op: RemovedOperation): RemovalDecision => {
    const notes: string[] = [];
    const candidates = [op.path, ...op.basePaths.map((b) => `${trimSlash(b)}${op.path}`)];
    const matching = [...new Set(candidates.flatMap((p) => policiesFor(input.policies, p, op.method)))];
    for (const pol of matching) {
      const sunset = pol.sunsetAt ? Date.parse(pol.sunsetAt) : NaN;
      if (sunset <= now) return { allowed: true, by: `policy:${pol.id}`, message: `deprecation policy ${pol.id} (${pol.pattern}) reached its sunset on ${day(sunset)}` };
      notes.push(pol.sunsetAt ? `Deprecation policy ${pol.id} sets its sunset for ${day(sunset)}, which has not passed.` : `Deprecation policy ${pol.id} has no sunset date.`);
    }
    const segments = new Set(candidates.flatMap((p) => p.split('/')).filter((s) => s !== ''));
    for (const v of input.versions) {
      if (!segments.has(v.version) || v.status === 'active') continue;
      const sunset = v.sunsetAt ? Date.parse(v.sunsetAt) : NaN;
      if (v.status === 'sunset' || v.status === 'retired' || sunset <= now) {
        return { allowed: true, by: `version:${v.version}`, message: `API version ${v.version} is ${v.status}${Number.isNaN(sunset) ? '' : ` (sunset ${day(sunset)})`}` };
      }
      notes.push(`API version ${v.version} is deprecated${Number.isNaN(sunset) ? ' without a sunset date' : ` until its sunset on ${day(sunset)}`}.`);
    }
    if (op.deprecated) {
      const sunset = op.sunset === undefined ? NaN : Date.parse(op.sunset);
      if (sunset <= now) return { allowed: true, by: 'x-sunset', message: `it was deprecated with x-sunset ${day(sunset)}` };
      notes.push(
        op.sunset === undefined
          ? 'It was deprecated, but no sunset date was announced (x-sunset or a deprecation policy).'
          : Number.isNaN(sunset)
            ? `Its x-sunset "${op.sunset}" is not a date.`
            : `It is deprecated, but its x-sunset ${day(sunset)} has not passed.`,
      );
    }
    return notes.length > 0 ? { allowed: false, note: notes.join(' ') } : { allowed: false };
  };
}
