/** The seed's environments and their entries (SEED_FACTS.md): `test` starts empty. */
export const SEED_ENVIRONMENTS: readonly { name: string; description: string; entries: Record<string, boolean> }[] = [
  { name: 'development', description: 'Local development', entries: { debug_mode: true, rate_limit_enabled: false } },
  { name: 'staging', description: 'Pre-production', entries: { debug_mode: false, rate_limit_enabled: true } },
  { name: 'production', description: 'Production', entries: { debug_mode: false, rate_limit_enabled: true, strict_ssl: true } },
  { name: 'test', description: 'Automated tests', entries: {} },
];
