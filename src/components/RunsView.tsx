/**
 * The Runs tab: experiment picker, filter box, column chooser, the runs table and a status
 * line with the selection and "Compare".
 */
import * as React from 'react';

import type { IExperiment, IKeys } from '../api';
import type { IColumn, IRunRow } from '../columns';
import type { IFilterError, ISortState } from '../model';
import { ColumnChooser } from './ColumnChooser';
import { ExperimentAccess } from './ExperimentAccess';
import { ExperimentPicker } from './ExperimentPicker';
import { FilterBox } from './FilterBox';
import { RunsTable } from './RunsTable';
import type { SelectMode } from '../model';

export interface IRunsViewProps {
  experiments: readonly IExperiment[];
  experimentId: string;
  filter: string;
  filterError: IFilterError | null;
  loadError: string | null;
  loading: boolean;
  loaded: boolean;
  keys: IKeys;
  columnIds: readonly string[];
  columns: readonly IColumn[];
  sort: ISortState;
  rows: readonly IRunRow[];
  total: number | null;
  selection: ReadonlySet<string>;
  activeRunId: string | null;
  now: number;
  maxCompare: number;
  keyMetric?: string | null;
  experimentNames?: ReadonlyMap<string, string>;
  /** The panel shows the team store: the chosen experiment's Access section is shown. */
  team?: boolean;
  onExperiment(id: string): void;
  onFilter(filter: string): void;
  onColumns(ids: string[]): void;
  onSort(columnId: string): void;
  onSelect(runId: string, mode: SelectMode): void;
  onSelectAll(select: boolean): void;
  onOpen(runId: string): void;
  onCompare(): void;
  onRefresh(): void;
}

export function RunsView(props: IRunsViewProps): JSX.Element {
  const count = props.rows.length;
  const selected = props.selection.size;
  const canCompare = selected >= 2 && selected <= props.maxCompare;
  let status: string;
  if (!props.loaded) {
    status = 'Loading runs…';
  } else if (props.total !== null && props.total > count) {
    status = `${count.toLocaleString()} of ${props.total.toLocaleString()} runs`;
  } else {
    status = `${count.toLocaleString()} run${count === 1 ? '' : 's'}`;
  }
  return (
    <div className="jp-Track-runs">
      <div className="jp-Track-toolbar">
        <ExperimentPicker
          experiments={props.experiments}
          value={props.experimentId}
          onChange={props.onExperiment}
        />
        <ColumnChooser
          keys={props.keys}
          chosen={props.columnIds}
          onChange={props.onColumns}
        />
        <button
          className="jp-Track-button"
          title="Reload the runs (they also refresh by themselves)"
          onClick={props.onRefresh}
        >
          Refresh
        </button>
      </div>
      <FilterBox
        value={props.filter}
        error={props.filterError}
        onApply={props.onFilter}
      />
      {props.team && props.experimentId ? (
        <ExperimentAccess experimentId={props.experimentId} />
      ) : null}
      {props.loadError ? (
        <div className="jp-Track-error" role="alert">
          {props.loadError}
        </div>
      ) : null}
      <div className="jp-Track-statusline">
        <span className="jp-Track-count" aria-live="polite">
          {status}
          {props.loading && props.loaded ? ' ·  updating…' : ''}
        </span>
        {selected ? (
          <span className="jp-Track-selected">
            {selected} selected
            <button
              className="jp-Track-link"
              onClick={() => props.onSelectAll(false)}
              title="Clear the selection (Escape)"
            >
              clear
            </button>
          </span>
        ) : null}
        <button
          className="jp-Track-button jp-Track-button-accept jp-Track-compare-button"
          disabled={!canCompare}
          title={
            canCompare
              ? 'Compare the selected runs'
              : `Select 2 to ${props.maxCompare} runs to compare them`
          }
          onClick={props.onCompare}
        >
          Compare
        </button>
      </div>
      {props.loaded && count === 0 && !props.filterError ? (
        <div className="jp-Track-empty">
          {props.filter
            ? 'No run matches the filter.'
            : 'No runs yet. Run a cell with %%track (after %load_ext jupyter_track), or use jupyter_track.start_run().'}
        </div>
      ) : null}
      <RunsTable
        rows={props.rows}
        columns={props.columns}
        sort={props.sort}
        selection={props.selection}
        activeRunId={props.activeRunId}
        now={props.now}
        onSort={props.onSort}
        onSelect={props.onSelect}
        onSelectAll={props.onSelectAll}
        onOpen={props.onOpen}
        keyMetric={props.keyMetric}
        experimentNames={props.experimentNames}
        busy={props.loading || !props.loaded}
      />
    </div>
  );
}
