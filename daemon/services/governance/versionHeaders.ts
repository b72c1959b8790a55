import type { ApiVersion, VersionStatus } from '../../protocol';

/** The lifecycle moves one step forward at a time. */
export const NEXT_STATUS: Record<VersionStatus, VersionStatus[]> = {
  active: ['deprecated'],
  deprecated: ['sunset'],
  sunset: ['retired'],
  retired: [],
};

/**
 * Response headers for a version: `Deprecation` as an RFC 9745 structured-field date
 * (`@<unix seconds>`), `Sunset` as an RFC 8594 HTTP-date, and `Link` with rel="deprecation" /
 * rel="sunset" when a page is configured. An active version gets none.
 */
export function headersForVersion(v: ApiVersion): { headers: Record<string, string>; recommendedStatus?: number } {
  const headers: Record<string, string> = {};
  if (v.status === 'active') return { headers };
  if (v.deprecatedAt) headers['Deprecation'] = `@${Math.floor(Date.parse(v.deprecatedAt) / 1000)}`;
  if (v.sunsetAt) headers['Sunset'] = new Date(v.sunsetAt).toUTCString();
  const links: string[] = [];
  if (v.deprecationLink) links.push(`<${v.deprecationLink}>; rel="deprecation"; type="text/html"`);
  if (v.sunsetLink) links.push(`<${v.sunsetLink}>; rel="sunset"; type="text/html"`);
  if (links.length > 0) headers['Link'] = links.join(', ');
  // Retired: the gateway should stop serving it; 410 Gone tells clients it will not come back.
  return v.status === 'retired' ? { headers, recommendedStatus: 410 } : { headers };
}
