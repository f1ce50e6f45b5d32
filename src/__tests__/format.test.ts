import { describe, expect, it } from 'vitest';

import {
  filterKey,
  formatAge,
  formatBytes,
  formatDuration,
  formatNumber,
  formatShortTime,
  formatTime,
  formatValue,
  MISSING,
  toNumber
} from '../format';

describe('formatNumber', () => {
  it.each([
    [null, MISSING],
    [undefined, MISSING],
    [NaN, 'NaN'],
    [Infinity, '∞'],
    [-Infinity, '-∞'],
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [1000000, '1000000'],
    [0.958333, '0.9583'],
    [12.3456, '12.35'],
    [-12.3456, '-12.35'],
    [0.5, '0.5'],
    [0.00012346, '1.235e-4'],
    [2500000.5, '2.5e+6'],
    [999999.6, '1000000'],
    [0.0009999, '9.999e-4'],
    [1e-300, '1e-300'],
    [1.0625, '1.063'] // a tie rounds away from zero, as in Python
  ])('%s -> %s', (value, text) => {
    expect(formatNumber(value as number | null | undefined)).toBe(text);
  });
});

describe('formatValue', () => {
  it('uses one rule for missing values, numbers and text', () => {
    expect(formatValue(null)).toBe(MISSING);
    expect(formatValue(undefined)).toBe(MISSING);
    expect(formatValue('adam')).toBe('adam');
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue('NaN')).toBe('NaN');
    expect(formatValue('-Infinity')).toBe('-∞');
  });
});

describe('toNumber', () => {
  it('reads the server strings for non-finite numbers', () => {
    expect(toNumber('NaN')).toBeNaN();
    expect(toNumber('Infinity')).toBe(Infinity);
    expect(toNumber('-Infinity')).toBe(-Infinity);
    expect(toNumber('1.5')).toBe(1.5);
    expect(toNumber('abc')).toBeNull();
    expect(toNumber(null)).toBeNull();
  });
});

describe('formatDuration', () => {
  it.each([
    [null, ''],
    [-1, ''],
    [0, '0ms'],
    [0.004, '0ms'],
    [0.07, '0.07ms'],
    [0.5, '0.5ms'],
    [0.994, '0.99ms'],
    [0.995, '1ms'],
    [849.4, '849ms'],
    [999.4, '999ms'],
    [999.5, '1.0s'],
    [12250, '12.3s'],
    [59949, '59.9s'],
    [59950, '1m 00s'],
    [245000, '4m 05s'],
    [2 * 3600e3 + 3 * 60e3, '2h 03m'],
    [76 * 3600e3, '3d 04h']
  ])('%s ms -> %s', (ms, text) => {
    expect(formatDuration(ms as number | null)).toBe(text);
  });
});

describe('times (TZ=UTC)', () => {
  const t = Date.UTC(2026, 0, 15, 10, 4, 5);
  it('formats absolute and short times with a date', () => {
    expect(formatTime(t)).toBe('2026-01-15 10:04:05');
    expect(formatShortTime(t, Date.UTC(2026, 5, 1))).toBe('Jan 15 10:04');
    expect(formatShortTime(t, Date.UTC(2027, 5, 1))).toBe('2026-01-15 10:04');
    expect(formatTime(null)).toBe('');
  });
  it('formats ages compactly', () => {
    expect(formatAge(t, t + 2000)).toBe('now');
    expect(formatAge(t, t + 45_000)).toBe('45s');
    expect(formatAge(t, t + 12 * 60_000)).toBe('12m');
    expect(formatAge(t, t + 3 * 3600_000)).toBe('3h');
    expect(formatAge(t, t + 2 * 86400_000)).toBe('2d');
    expect(formatAge(t, t + 30 * 86400_000)).toBe('Jan 15');
    expect(formatAge(t, Date.UTC(2027, 5, 1))).toBe('2026-01-15');
  });
});

describe('formatBytes', () => {
  it('uses decimal units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1234)).toBe('1.2 kB');
    expect(formatBytes(3_400_000)).toBe('3.4 MB');
    expect(formatBytes(null)).toBe('');
  });
});

describe('filterKey', () => {
  it.each([
    ['acc', 'metrics.acc'],
    ['val.loss', 'metrics.val.loss'],
    ['val loss', 'metrics.`val loss`'],
    ['a`b', 'metrics."a`b"'],
    ['a\\b"c', 'metrics."a\\\\b""c"']
  ])('%s -> %s', (key, field) => {
    expect(filterKey('metrics', key)).toBe(field);
  });
});
