/**
 * The runs table: virtual scrolling (only the rows in view, plus a few, are in the DOM),
 * sortable headers, multi-select (click, Ctrl/Cmd+click, Shift+click, checkboxes, keyboard).
 *
 * Pure and props-driven: rows are memoised by identity, so when a poll replaces a few run
 * objects only those rows render again.
 */
import * as React from 'react';

import {
  cellText,
  cellTitle,
  COMPACT_WIDTH,
  compactColumns,
  IColumn,
  IRunRow
} from '../columns';
import type { SelectMode } from '../model';

export const ROW_HEIGHT = 24;
const OVERSCAN = 8;

export interface IRunsTableProps {
  rows: readonly IRunRow[];
  columns: readonly IColumn[];
  sort: { column: string; descending: boolean };
  selection: ReadonlySet<string>;
  /** Run ids whose detail is open (highlighted). */
  activeRunId: string | null;
  /** Current time, for the duration of running runs. */
  now: number;
  onSort(columnId: string): void;
  onSelect(runId: string, mode: SelectMode): void;
  onSelectAll(select: boolean): void;
  onOpen(runId: string): void;
  /** The compact layout's one metric column. */
  keyMetric?: string | null;
  /** Experiment names by id (the Experiment column and the compact name's tooltip). */
  experimentNames?: ReadonlyMap<string, string>;
  /** Force a layout (default: compact below COMPACT_WIDTH). */
  layout?: 'compact' | 'wide';
  /** Rows are being (re)loaded: `aria-busy` on the grid. */
  busy?: boolean;
}

interface IRowProps {
  row: IRunRow;
  index: number;
  columns: readonly IColumn[];
  selected: boolean;
  active: boolean;
  /** Only running rows get the current time (so finished rows never re-render for it). */
  now: number;
  template: string;
  experimentNames?: ReadonlyMap<string, string>;
  onRowClick(event: React.MouseEvent, runId: string): void;
  onCheck(runId: string): void;
  onOpen(runId: string): void;
}

const STATUS_LABEL: Record<string, string> = {
  RUNNING: 'running',
  FINISHED: 'finished',
  FAILED: 'failed',
  KILLED: 'killed',
  SCHEDULED: 'scheduled'
};

function StatusDot(props: { status: string }): JSX.Element {
  const label = STATUS_LABEL[props.status] ?? props.status.toLowerCase();
  return (
    <span
      className={`jp-Track-status jp-Track-status-${label}`}
      title={props.status}
      aria-label={props.status}
    />
  );
}

const Row = React.memo((props: IRowProps): JSX.Element => {
  const { row, columns, selected, active, now } = props;
  const className =
    'jp-Track-row' +
    (props.index % 2 ? ' jp-Track-row-odd' : '') +
    (selected ? ' jp-mod-selected' : '') +
    (active ? ' jp-mod-active' : '');
  return (
    <div
      className={className}
      role="row"
      aria-selected={selected}
      data-run-id={row.runId}
      style={{
        transform: `translateY(${props.index * ROW_HEIGHT}px)`,
        gridTemplateColumns: props.template
      }}
      onClick={event => props.onRowClick(event, row.runId)}
      onDoubleClick={() => props.onOpen(row.runId)}
    >
      <div className="jp-Track-cell jp-Track-cell-check" role="gridcell">
        <input
          type="checkbox"
          checked={selected}
          aria-label="Select run"
          onClick={event => event.stopPropagation()}
          onChange={() => props.onCheck(row.runId)}
        />
      </div>
      {columns.map(column => {
        if (column.id === 'status') {
          return (
            <div key={column.id} className="jp-Track-cell" role="gridcell">
              <StatusDot status={row.status} />
            </div>
          );
        }
        const text = cellText(row, column, now, props.experimentNames);
        if (column.id === 'name') {
          const experiment = props.experimentNames?.get(row.experimentId);
          return (
            <div
              key={column.id}
              className="jp-Track-cell jp-Track-cell-name"
              role="gridcell"
              title={experiment ? `${text} · ${experiment}` : text}
            >
              <button
                className="jp-Track-link"
                onClick={event => {
                  event.stopPropagation();
                  props.onOpen(row.runId);
                }}
              >
                {text}
              </button>
            </div>
          );
        }
        return (
          <div
            key={column.id}
            className={
              'jp-Track-cell' + (column.numeric ? ' jp-Track-cell-num' : '')
            }
            role="gridcell"
            data-column={column.id}
            title={cellTitle(row, column, now, props.experimentNames)}
          >
            {text}
          </div>
        );
      })}
    </div>
  );
});

export function gridTemplate(columns: readonly IColumn[]): string {
  return [
    '26px',
    ...columns.map(c => (c.flex ? 'minmax(60px, 1fr)' : `${c.width}px`))
  ].join(' ');
}

export function RunsTable(props: IRunsTableProps): JSX.Element {
  const { rows, selection } = props;
  const scroller = React.useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = React.useState({
    top: 0,
    height: 600,
    width: 1000
  });
  const compact =
    props.layout === 'compact' ||
    (props.layout !== 'wide' && viewport.width < COMPACT_WIDTH);
  const columns = React.useMemo(
    () => (compact ? compactColumns(props.keyMetric ?? null) : props.columns),
    [compact, props.keyMetric, props.columns]
  );

  React.useEffect(() => {
    const node = scroller.current;
    if (!node) {
      return;
    }
    const update = (): void =>
      setViewport(v =>
        v.top === node.scrollTop &&
        v.height === node.clientHeight &&
        v.width === node.clientWidth
          ? v
          : {
              top: node.scrollTop,
              height: node.clientHeight,
              width: node.clientWidth
            }
      );
    update();
    const observer = new ResizeObserver(update);
    observer.observe(node);
    node.addEventListener('scroll', update, { passive: true });
    return () => {
      observer.disconnect();
      node.removeEventListener('scroll', update);
    };
  }, []);

  // For benchmarks/bench_sidebar.py: a mark once a new set of rows is on screen.
  React.useEffect(() => {
    const frame = requestAnimationFrame(() =>
      setTimeout(() => {
        performance.clearMarks('jupyter-track:rows-painted');
        performance.mark('jupyter-track:rows-painted', {
          detail: { rows: rows.length }
        });
      })
    );
    return () => cancelAnimationFrame(frame);
  }, [rows]);

  const template = React.useMemo(() => gridTemplate(columns), [columns]);
  const width = React.useMemo(
    () =>
      compact ? undefined : 26 + columns.reduce((sum, c) => sum + c.width, 0),
    [columns, compact]
  );

  const first = Math.max(0, Math.floor(viewport.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(
    rows.length,
    Math.ceil((viewport.top + viewport.height) / ROW_HEIGHT) + OVERSCAN
  );

  // The keyboard cursor: the row last clicked or moved to (the model keeps the range anchor).
  const cursor = React.useRef<string | null>(null);
  const onRowClick = React.useCallback(
    (event: React.MouseEvent, runId: string) => {
      const mode: SelectMode = event.shiftKey
        ? 'range'
        : event.ctrlKey || event.metaKey
          ? 'toggle'
          : 'single';
      cursor.current = runId;
      props.onSelect(runId, mode);
    },
    [props.onSelect]
  );
  const onCheck = React.useCallback(
    (runId: string) => props.onSelect(runId, 'toggle'),
    [props.onSelect]
  );

  const onKeyDown = (event: React.KeyboardEvent): void => {
    if (!rows.length) {
      return;
    }
    // the keyboard cursor; else the one selected run (the cursor is lost when the table is
    // rebuilt, e.g. by a reload after sorting); else the open run
    const only =
      selection.size === 1 ? selection.values().next().value : undefined;
    const current = cursor.current ?? only ?? props.activeRunId;
    let index = rows.findIndex(r => r.runId === current);
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      index =
        event.key === 'ArrowDown'
          ? Math.min(rows.length - 1, index + 1)
          : Math.max(0, index - 1);
      const runId = rows[index].runId;
      cursor.current = runId;
      props.onSelect(runId, event.shiftKey ? 'range' : 'single');
      const node = scroller.current;
      if (node) {
        const y = index * ROW_HEIGHT;
        if (y < node.scrollTop) {
          node.scrollTop = y;
        } else if (y + 2 * ROW_HEIGHT > node.scrollTop + node.clientHeight) {
          node.scrollTop = y + 2 * ROW_HEIGHT - node.clientHeight;
        }
      }
      event.preventDefault();
    } else if (event.key === 'Enter' && index >= 0) {
      props.onOpen(rows[index].runId);
      event.preventDefault();
    } else if (event.key === 'a' && (event.ctrlKey || event.metaKey)) {
      props.onSelectAll(true);
      event.preventDefault();
    } else if (event.key === 'Escape') {
      props.onSelectAll(false);
    }
  };

  const visible: JSX.Element[] = [];
  for (let i = first; i < last; i++) {
    const row = rows[i];
    visible.push(
      <Row
        key={row.runId}
        row={row}
        index={i}
        columns={columns}
        selected={selection.has(row.runId)}
        active={row.runId === props.activeRunId}
        now={row.status === 'RUNNING' || compact ? props.now : 0}
        template={template}
        experimentNames={props.experimentNames}
        onRowClick={onRowClick}
        onCheck={onCheck}
        onOpen={props.onOpen}
      />
    );
  }

  const allSelected = rows.length > 0 && selection.size >= rows.length;
  return (
    <div
      className={'jp-Track-table' + (compact ? ' jp-mod-compact' : '')}
      role="grid"
      aria-label="Runs"
      aria-busy={props.busy ? 'true' : 'false'}
      data-layout={compact ? 'compact' : 'wide'}
      aria-rowcount={rows.length}
      tabIndex={0}
      onKeyDown={onKeyDown}
      ref={scroller}
    >
      <div
        className="jp-Track-header"
        role="row"
        style={{ gridTemplateColumns: template, width }}
      >
        <div className="jp-Track-cell jp-Track-cell-check" role="columnheader">
          <input
            type="checkbox"
            aria-label="Select all runs"
            checked={allSelected}
            onChange={() => props.onSelectAll(!allSelected)}
          />
        </div>
        {columns.map(column => {
          const sorted = props.sort.column === column.id;
          return (
            <div
              key={column.id}
              role="columnheader"
              className={
                'jp-Track-cell jp-Track-headcell' +
                (column.numeric ? ' jp-Track-cell-num' : '') +
                (sorted ? ' jp-mod-sorted' : '')
              }
              aria-sort={
                sorted
                  ? props.sort.descending
                    ? 'descending'
                    : 'ascending'
                  : 'none'
              }
              data-column={column.id}
              title={`Sort by ${column.label}`}
              aria-label={column.id === 'status' ? 'Status' : undefined}
              tabIndex={0}
              onClick={() => props.onSort(column.id)}
              onKeyDown={event => {
                // sortable from the keyboard too (Tab to the header, Enter or Space)
                if (event.key === 'Enter' || event.key === ' ') {
                  event.preventDefault();
                  event.stopPropagation();
                  props.onSort(column.id);
                }
              }}
            >
              <span className="jp-Track-headlabel">
                {column.id === 'status' ? '' : column.label}
              </span>
              {sorted ? (
                <span className="jp-Track-sortmark">
                  {props.sort.descending ? '▼' : '▲'}
                </span>
              ) : null}
            </div>
          );
        })}
      </div>
      <div
        className="jp-Track-rows"
        role="rowgroup"
        style={{ height: rows.length * ROW_HEIGHT, width }}
      >
        {visible}
      </div>
    </div>
  );
}
