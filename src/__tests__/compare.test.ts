import { describe, expect, it } from 'vitest';

import { isLogX } from '../components/CompareView';
import { chooseMetric } from '../model/compare';

const aligned = (key: string) => ({
  key,
  values: [1, 2],
  differs: true
});

describe('chooseMetric', () => {
  const comparison = {
    metrics: [aligned('acc'), aligned('loss')],
    default_metric: 'loss'
  };
  it('prefers the metric the table is sorted by', () => {
    expect(chooseMetric(comparison, 'acc')).toBe('acc');
  });
  it("falls back to the server's default (a metric with a history)", () => {
    expect(chooseMetric(comparison, 'missing')).toBe('loss');
    expect(chooseMetric(comparison)).toBe('loss');
  });
  it('takes the first metric without a default, nothing without metrics', () => {
    expect(chooseMetric({ metrics: [aligned('b'), aligned('a')] })).toBe('b');
    expect(chooseMetric({ metrics: [] })).toBe('');
  });
});

describe('isLogX', () => {
  it('reads the scale of the x encoding', () => {
    expect(isLogX({ encoding: { x: { scale: { type: 'log' } } } })).toBe(true);
    expect(isLogX({ encoding: { x: { scale: { zero: false } } } })).toBe(false);
    expect(isLogX(undefined)).toBe(false);
  });
});
