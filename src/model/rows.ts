/**
 * Row helpers of the runs list: API run summaries as table rows, filter and order-by text,
 * wildcard column ids. Pure functions (unit-tested in src/__tests__/rows.test.ts).
 */
import type { IKeys, IRunSummary } from '../api';
import { columnFor, FIXED_COLUMNS, IRunRow } from '../columns';
import { filterKey, toNumber } from '../format';

/** At most this many columns come from one wildcard (`metrics.*`). */
export const WILDCARD_LIMIT = 5;

export interface ISortState {
  column: string;
  descending: boolean;
}

/** Turn the API's run summary into the table's row (with a change signature). */
export function toRow(run: IRunSummary): IRunRow {
  const metrics: Record<string, number | null> = {};
  for (const [key, value] of Object.entries(run.metrics ?? {})) {
    metrics[key] = toNumber(value);
  }
  const params = run.params ?? {};
  const tags = run.tags ?? {};
  const signature = JSON.stringify([
    run.run_name,
    run.status,
    run.end_time,
    run.lifecycle_stage,
    params,
    run.metrics,
    tags
  ]);
  return {
    runId: run.run_id,
    experimentId: String(run.experiment_id),
    name: run.run_name ?? '',
    status: run.status,
    startTime: run.start_time,
    endTime: run.end_time ?? null,
    userId: run.user_id ?? '',
    params,
    metrics,
    tags,
    notebook: run.notebook ?? null,
    cellId: run.cell_id ?? null,
    signature
  };
}

/** `(a) AND (b)`, leaving out empty parts. */
export function andFilters(...parts: (string | null | undefined)[]): string {
  const kept = parts.map(p => (p ?? '').trim()).filter(p => p.length > 0);
  if (kept.length <= 1) {
    return kept[0] ?? '';
  }
  return kept.map(p => `(${p})`).join(' AND ');
}

const ORDER_ATTRIBUTES: Record<string, string> = {
  start: 'attributes.start_time',
  age: 'attributes.start_time',
  name: 'attributes.run_name',
  status: 'attributes.status',
  user: 'attributes.user_id'
};

/**
 * The server's `order_by` for a sort of the table, or undefined when the server cannot sort by
 * that column (duration) or it is the server's default (newest first).
 */
export function serverOrder(sort: ISortState): string[] | undefined {
  if (sort.column === 'start' && sort.descending) {
    return undefined;
  }
  const column = columnFor(sort.column);
  const direction = sort.descending ? 'DESC' : 'ASC';
  if (column.kind === 'attribute') {
    const field = ORDER_ATTRIBUTES[column.key];
    return field ? [`${field} ${direction}`] : undefined;
  }
  return [`${filterKey(column.kind, column.key)} ${direction}`];
}

/** Expand wildcard column ids (`metrics.*`) against the known keys. */
export function expandColumns(ids: readonly string[], keys: IKeys): string[] {
  const out: string[] = [];
  for (const id of ids) {
    const match = /^(params|metrics|tags)\.\*$/.exec(id);
    if (match) {
      const entity = match[1] as keyof IKeys;
      for (const key of keys[entity]
        .filter(k =>
          entity === 'tags'
            ? !/^(mlflow|jt)\./.test(k)
            : entity !== 'metrics' || !k.startsWith('system/')
        )
        .slice(0, WILDCARD_LIMIT)) {
        out.push(`${entity}.${key}`);
      }
    } else if (!FIXED_COLUMNS.includes(id)) {
      out.push(id);
    }
  }
  return [...new Set(out)];
}
