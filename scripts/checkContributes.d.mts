/** Types of checkContributes.mjs for the tests that import it. */
export function findDrift(input: { pkg: unknown; ids: unknown; sources: { file: string; text: string }[] }): string[];
export function loadIds(file?: string): Promise<Record<string, unknown>>;
