import { describe, expect, it } from 'vitest';
import { sloFilePath, sloImportMode } from '../../../../extension/features/slo/sloFiles';

describe('OpenSLO command arguments', () => {
  it('takes absolute paths as they are and resolves relative ones against the workspace folder', () => {
    expect(sloFilePath('/tmp/a.openslo.yaml', '/ws')).toBe('/tmp/a.openslo.yaml');
    expect(sloFilePath(' slos/a.yaml ', '/ws')).toBe('/ws/slos/a.yaml');
    expect(sloFilePath('a.yaml', undefined)).toBe(`${process.cwd()}/a.yaml`);
  });

  it('treats anything but a non-empty string as no file (the dialog asks)', () => {
    for (const arg of [undefined, null, '', '  ', 42, {}, [{ sloId: 'x' }]]) expect(sloFilePath(arg, '/ws')).toBeUndefined();
  });

  it('reads the import mode, create unless replace is asked for', () => {
    expect(sloImportMode({ mode: 'replace' })).toBe('replace');
    expect(sloImportMode({ mode: 'merge' })).toBe('create');
    expect(sloImportMode(undefined)).toBe('create');
  });
});
