/**
 * Columns of the runs table: the fixed ones (status, name, start, duration, user) and one per
 * chosen param, metric or tag. Pure data and functions, used by the model (sorting) and the
 * table (rendering).
 */
import {
  formatAge,
  formatDuration,
  formatNumber,
  formatShortTime,
  formatTime,
  formatValue
} from './format';

/** A run as the table and the model hold it (normalised from the API's run summary). */
export interface IRunRow {
  readonly runId: string;
  readonly experimentId: string;
  readonly name: string;
  readonly status: string;
  readonly startTime: number;
  readonly endTime: number | null;
  readonly userId: string;
  readonly params: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number | null>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly notebook: string | null;
  readonly cellId: string | null;
  /** Changes whenever anything shown of the run changes (the model keeps rows whose
   * signature is unchanged, so the table re-renders only rows that changed). */
  readonly signature: string;
}

export type ColumnKind = 'attribute' | 'params' | 'metrics' | 'tags';

export interface IColumn {
  /** `status`, `name`, `start`, `duration`, `user`, or `params.<key>`, `metrics.<key>`,
   * `tags.<key>`. */
  readonly id: string;
  readonly kind: ColumnKind;
  readonly key: string;
  readonly label: string;
  readonly width: number;
  readonly numeric: boolean;
  /** Takes the rest of the row's width (the name in the compact layout). */
  readonly flex?: boolean;
}

export const FIXED_COLUMNS: readonly string[] = [
  'status',
  'name',
  'start',
  'duration',
  'user'
];

const FIXED: Record<string, Omit<IColumn, 'id' | 'kind' | 'key'>> = {
  status: { label: 'Status', width: 34, numeric: false },
  name: { label: 'Name', width: 150, numeric: false },
  experiment: { label: 'Experiment', width: 110, numeric: false },
  start: { label: 'Start', width: 100, numeric: true },
  age: { label: 'Age', width: 44, numeric: true },
  duration: { label: 'Duration', width: 70, numeric: true },
  user: { label: 'User', width: 64, numeric: false }
};

/** Below this width (px) the table shows the compact layout (JupyterLab's default sidebar). */
export const COMPACT_WIDTH = 520;

/**
 * The columns at the default sidebar width: status, name (taking the rest of the width), the
 * key metric, and how long ago the run started.
 */
export function compactColumns(keyMetric: string | null): IColumn[] {
  const ids = [
    'status',
    'name',
    ...(keyMetric ? [`metrics.${keyMetric}`] : []),
    'age'
  ];
  return ids.map(id => {
    const column = columnFor(id);
    if (id === 'status') {
      return { ...column, width: 18 };
    }
    if (id === 'age') {
      return { ...column, width: 46 }; // "34s", "5h", "Dec 5", "2025-11-02" (title: the time)
    }
    // the name gets the rest of the width: enough to tell "mlp-lr0.001" from "mlp-lr0.003"
    return id === 'name' ? { ...column, flex: true } : { ...column, width: 56 };
  });
}

/**
 * The experiment's key metric: the metric the table is sorted by; else the experiment's
 * `jt.key_metric` tag; else the first metric logged (not a `system/` one).
 */
export function keyMetricOf(
  sortColumn: string,
  experimentTag: string | undefined,
  metrics: readonly string[]
): string | null {
  if (sortColumn.startsWith('metrics.')) {
    return sortColumn.slice('metrics.'.length);
  }
  if (experimentTag && metrics.includes(experimentTag)) {
    return experimentTag;
  }
  return metrics.find(k => !k.startsWith('system/')) ?? null;
}

/** The column for an id such as `start` or `metrics.accuracy`. */
export function columnFor(id: string): IColumn {
  const fixed = FIXED[id];
  if (fixed) {
    return { id, kind: 'attribute', key: id, ...fixed };
  }
  const dot = id.indexOf('.');
  const entity = id.slice(0, dot);
  const key = id.slice(dot + 1);
  const kind: ColumnKind =
    entity === 'metrics' || entity === 'params' || entity === 'tags'
      ? entity
      : 'params';
  return {
    id,
    kind,
    key,
    label: key,
    width: kind === 'metrics' ? 84 : 90,
    numeric: kind === 'metrics'
  };
}

/** The value a column sorts by: numbers for metrics/times, text (or a number) otherwise. */
export function sortValue(
  row: IRunRow,
  column: IColumn,
  now: number
): string | number | null {
  switch (column.kind) {
    case 'attribute':
      switch (column.key) {
        case 'status':
          return row.status;
        case 'name':
          return row.name.toLowerCase();
        case 'start':
        case 'age':
          return row.startTime;
        case 'experiment':
          return row.experimentId;
        case 'duration':
          return (row.endTime ?? now) - row.startTime;
        case 'user':
          return row.userId;
        default:
          return null;
      }
    case 'metrics': {
      const v = row.metrics[column.key];
      return v === undefined || v === null || Number.isNaN(v) ? null : v;
    }
    case 'params':
    case 'tags': {
      const text = (column.kind === 'params' ? row.params : row.tags)[
        column.key
      ];
      if (text === undefined) {
        return null;
      }
      const n = Number(text);
      return text.trim() !== '' && Number.isFinite(n) ? n : text;
    }
  }
}

/** Compare two sort values: missing last, numbers before text, then natural order. */
export function compareValues(
  a: string | number | null,
  b: string | number | null
): number {
  if (a === b) {
    return 0;
  }
  if (a === null) {
    return 1;
  }
  if (b === null) {
    return -1;
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  if (typeof a === 'number') {
    return -1;
  }
  if (typeof b === 'number') {
    return 1;
  }
  return a < b ? -1 : 1;
}

/** Sort rows by a column (stable; missing values always last). */
export function sortRows(
  rows: readonly IRunRow[],
  column: IColumn,
  descending: boolean,
  now: number
): IRunRow[] {
  const keyed = rows.map((row, index) => ({
    row,
    index,
    value: sortValue(row, column, now)
  }));
  keyed.sort((x, y) => {
    if (x.value === null || y.value === null) {
      const c = compareValues(x.value, y.value);
      return c === 0 ? x.index - y.index : c;
    }
    const c = compareValues(x.value, y.value);
    return (descending ? -c : c) || x.index - y.index;
  });
  return keyed.map(k => k.row);
}

/** The text a cell shows (and its title), for a row and a column. */
export function cellText(
  row: IRunRow,
  column: IColumn,
  now: number,
  experimentNames?: ReadonlyMap<string, string>
): string {
  switch (column.kind) {
    case 'attribute':
      switch (column.key) {
        case 'status':
          return row.status;
        case 'name':
          return row.name || row.runId.slice(0, 8);
        case 'experiment':
          return experimentNames?.get(row.experimentId) ?? row.experimentId;
        case 'start':
          return formatShortTime(row.startTime, now || Date.now());
        case 'age':
          return formatAge(row.startTime, now || Date.now());
        case 'duration':
          return formatDuration((row.endTime ?? now) - row.startTime);
        case 'user':
          return row.userId;
        default:
          return '';
      }
    case 'metrics':
      return formatNumber(row.metrics[column.key]);
    case 'params':
      return formatValue(row.params[column.key]);
    case 'tags':
      return formatValue(row.tags[column.key]);
  }
}

/** A longer text for the cell's tooltip. */
export function cellTitle(
  row: IRunRow,
  column: IColumn,
  now: number,
  experimentNames?: ReadonlyMap<string, string>
): string {
  if (
    column.kind === 'attribute' &&
    (column.key === 'start' || column.key === 'age')
  ) {
    return formatTime(row.startTime);
  }
  if (column.kind === 'metrics') {
    const v = row.metrics[column.key];
    return v === undefined || v === null ? '' : String(v);
  }
  return cellText(row, column, now, experimentNames);
}
