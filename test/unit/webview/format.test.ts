import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDuration } from '../../../webview/protocol/format';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 + 512, '10.5 KiB'],
    [100 * 1024, '100 KiB'],
    [5 * 1024 ** 3, '5 GiB'],
  ])('%i → %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it('shows a dash for nonsense', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [45_000, '45s'],
    [93_000, '1m 33s'],
    [3_600_000, '1h'],
    [3_723_000, '1h 2m'],
    [90_061_000, '1d 1h'],
    [86_400_000 + 60_000, '1d'],
  ])('%i ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('formatCount', () => {
  it('groups thousands the same in every locale', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1234567)).toBe('1,234,567');
  });
});
