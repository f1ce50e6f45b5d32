import { describe, expect, it } from 'vitest';

import {
  metricChange,
  paramChange,
  parseRunSummary,
  RUN_SUMMARY_VERSION
} from '../summaryview';

function payload(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: RUN_SUMMARY_VERSION,
    run: {
      run_id: 'a'.repeat(32),
      name: 'brave-owl-1',
      status: 'FINISHED',
      duration_ms: 12.5,
      error: null,
      experiment: 'Default'
    },
    previous: { run_id: 'b'.repeat(32), name: 'calm-fox-2' },
    params: [{ key: 'lr', value: '0.01', previous: '0.1', changed: true }],
    metrics: [{ key: 'loss', value: 'NaN', previous: 0.5, delta: null }],
    notes: ['-p x: not defined after the cell'],
    ...over
  };
}

describe('parseRunSummary', () => {
  it('reads the payload Python builds', () => {
    const summary = parseRunSummary(payload());
    expect(summary.run.name).toBe('brave-owl-1');
    expect(summary.previous?.name).toBe('calm-fox-2');
    expect(summary.params[0]).toEqual({
      key: 'lr',
      value: '0.01',
      previous: '0.1',
      changed: true
    });
    expect(summary.metrics[0].value).toBe('NaN');
    expect(summary.notes).toEqual(['-p x: not defined after the cell']);
  });

  it('takes a run without a previous run, duration or experiment', () => {
    const summary = parseRunSummary(
      payload({
        previous: null,
        run: { run_id: 'c', name: 'n', status: 'RUNNING', duration_ms: null }
      })
    );
    expect(summary.previous).toBeNull();
    expect(summary.run.duration_ms).toBeNull();
    expect(summary.run.experiment).toBe('');
  });

  it('names the field and the reason when the data is not a summary', () => {
    expect(() => parseRunSummary('text')).toThrow('expected a JSON object');
    expect(() => parseRunSummary(payload({ version: 2 }))).toThrow(
      'version 2 is not supported'
    );
    expect(() => parseRunSummary(payload({ run: null }))).toThrow('run:');
    expect(() =>
      parseRunSummary(payload({ params: [{ key: 'lr', value: 1 }] }))
    ).toThrow('params[0].value: expected text');
    expect(() =>
      parseRunSummary(
        payload({ metrics: [{ key: 'loss', value: 1, delta: '0.1' }] })
      )
    ).toThrow('metrics[0].delta: expected a number');
    expect(() => parseRunSummary(payload({ notes: 'x' }))).toThrow(
      'notes: expected a list'
    );
  });
});

describe('change texts', () => {
  it('marks a changed param with its old value, or as new', () => {
    const base = { key: 'lr', value: '0.01', previous: '0.1', changed: true };
    expect(paramChange(base)).toBe('was 0.1');
    expect(paramChange({ ...base, previous: null })).toBe('new');
    expect(paramChange({ ...base, changed: false })).toBe('');
  });

  it("writes a metric's change with an arrow and the shared number rule", () => {
    expect(metricChange(null)).toBe('');
    expect(metricChange(0)).toBe('unchanged');
    expect(metricChange(0.25)).toBe('▲ 0.25');
    expect(metricChange(-0.1 + 1e-17)).toBe('▼ 0.1');
    expect(metricChange(-1234567.8)).toBe('▼ 1.235e+6');
  });
});
