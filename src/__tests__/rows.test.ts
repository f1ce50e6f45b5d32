import { describe, expect, it } from 'vitest';

import type { IRunSummary } from '../api';
import {
  cellText,
  columnFor,
  compactColumns,
  compareValues,
  keyMetricOf,
  IRunRow,
  sortRows
} from '../columns';
import { andFilters, expandColumns, serverOrder, toRow } from '../model/rows';

function summary(over: Partial<IRunSummary> = {}): IRunSummary {
  return {
    run_id: 'r1',
    run_name: 'alpha',
    experiment_id: '1',
    status: 'FINISHED',
    start_time: 1000,
    end_time: 6000,
    lifecycle_stage: 'active',
    params: { lr: '0.01' },
    metrics: { acc: 0.9, loss: 'NaN' },
    tags: {},
    ...over
  };
}

describe('toRow', () => {
  it('reads the server number strings and keeps a change signature', () => {
    const row = toRow(summary());
    expect(row.metrics.acc).toBe(0.9);
    expect(row.metrics.loss).toBeNaN();
    expect(toRow(summary()).signature).toBe(row.signature);
    expect(toRow(summary({ status: 'FAILED' })).signature).not.toBe(
      row.signature
    );
  });
});

describe('filters and order', () => {
  it('joins filter parts', () => {
    expect(andFilters('', null, 'a = 1')).toBe('a = 1');
    expect(andFilters('a = 1', 'b = 2')).toBe('(a = 1) AND (b = 2)');
  });
  it('orders by the filter field of the column', () => {
    expect(serverOrder({ column: 'start', descending: true })).toBeUndefined();
    expect(
      serverOrder({ column: 'metrics.val loss', descending: true })
    ).toEqual(['metrics.`val loss` DESC']);
    expect(serverOrder({ column: 'name', descending: false })).toEqual([
      'attributes.run_name ASC'
    ]);
  });
  it('expands wildcards without system tags', () => {
    const keys = {
      params: ['a', 'b'],
      metrics: ['m'],
      tags: ['jt.user', 'team']
    };
    expect(expandColumns(['metrics.*', 'tags.*', 'params.a'], keys)).toEqual([
      'metrics.m',
      'tags.team',
      'params.a'
    ]);
  });
});

describe('columns', () => {
  const rows: IRunRow[] = [
    toRow(summary({ run_id: 'a', metrics: { acc: 0.5 } })),
    toRow(summary({ run_id: 'b', metrics: {} })),
    toRow(summary({ run_id: 'c', metrics: { acc: 0.7 } }))
  ];
  it('sorts with missing values last in both directions', () => {
    const acc = columnFor('metrics.acc');
    expect(sortRows(rows, acc, true, 0).map(r => r.runId)).toEqual([
      'c',
      'a',
      'b'
    ]);
    expect(sortRows(rows, acc, false, 0).map(r => r.runId)).toEqual([
      'a',
      'c',
      'b'
    ]);
    expect(compareValues(1, 'x')).toBeLessThan(0);
  });
  it('shows a missing value as a dash, like the widgets', () => {
    expect(cellText(rows[1], columnFor('metrics.acc'), 0)).toBe('—');
    expect(cellText(rows[0], columnFor('params.missing'), 0)).toBe('—');
    expect(cellText(rows[0], columnFor('duration'), 0)).toBe('5.0s');
  });
});

describe('the compact layout', () => {
  it('shows status, name, the key metric and the age', () => {
    expect(compactColumns('acc').map(c => c.id)).toEqual([
      'status',
      'name',
      'metrics.acc',
      'age'
    ]);
    expect(compactColumns(null).map(c => c.id)).toEqual([
      'status',
      'name',
      'age'
    ]);
    expect(compactColumns('acc').find(c => c.id === 'name')?.flex).toBe(true);
  });
  it('picks the key metric: sorted, tagged, else the first non-system one', () => {
    expect(keyMetricOf('metrics.loss', 'acc', ['acc', 'loss'])).toBe('loss');
    expect(keyMetricOf('start', 'acc', ['acc', 'loss'])).toBe('acc');
    expect(keyMetricOf('start', 'gone', ['system/cpu', 'loss'])).toBe('loss');
    expect(keyMetricOf('start', undefined, [])).toBeNull();
  });
  it('shows ages and start times with a date', () => {
    const row = toRow(summary({ start_time: Date.UTC(2026, 0, 15, 10, 0) }));
    const now = Date.UTC(2026, 0, 15, 13, 0);
    expect(cellText(row, columnFor('age'), now)).toBe('3h');
    expect(cellText(row, columnFor('start'), now)).toBe('Jan 15 10:00');
  });
});
