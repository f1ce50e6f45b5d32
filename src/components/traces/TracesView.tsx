/**
 * The Traces tab: a list of traces (experiment, filter in the filter language, pages), the
 * trace view of one trace, and two traces side by side. Pure React over a {@link TracesState}.
 */
import * as React from 'react';

import type { IExperiment } from '../../api';
import { formatDuration, formatShortTime } from '../../format';
import { ExperimentPicker } from '../ExperimentPicker';
import { FilterBox } from '../FilterBox';
import { TraceComparisonHost, TraceViewHost } from './TraceViewHost';
import { TracesState } from './state';

export const TRACE_FILTER_HELP =
  "Filter traces, e.g. status = 'ERROR' AND execution_time_ms > 1000\n" +
  'Fields: status, name, timestamp_ms, execution_time_ms, total_tokens, run_id, tags.*, ' +
  'metadata.*, span.name, span.type, span.status, feedback.*, expectation.*\n' +
  'Operators: = != < <= > >= LIKE ILIKE IN, IS NULL; combine with AND, OR, NOT, ( )';

export interface ITracesViewProps {
  state: TracesState;
  experiments: readonly IExperiment[];
  onOpenRun(runId: string): void;
}

function List(props: ITracesViewProps): JSX.Element {
  const { state } = props;
  const canCompare = state.selection.length === 2;
  return (
    <div className="jp-Track-traces-list">
      <div className="jp-Track-toolbar">
        <ExperimentPicker
          experiments={props.experiments}
          value={state.experimentId}
          onChange={id => state.setExperiment(id)}
          className="jp-Track-traces-experiment"
        />
        <button
          className="jp-Track-button"
          title="Reload the traces"
          onClick={() => void state.refresh()}
        >
          Refresh
        </button>
        <button
          className={
            'jp-Track-button' + (canCompare ? ' jp-Track-button-accept' : '')
          }
          disabled={!canCompare}
          title={
            canCompare
              ? 'Show the two ticked traces side by side'
              : 'Tick two traces to compare them'
          }
          onClick={() => void state.compareSelected()}
        >
          Compare ({state.selection.length}/2)
        </button>
      </div>
      <FilterBox
        value={state.filter}
        error={state.filterError}
        onApply={filter => state.setFilter(filter)}
        placeholder="Filter: status = 'ERROR' OR span.type = 'TOOL'"
        help={TRACE_FILTER_HELP}
        label="Filter traces"
      />
      {state.error ? (
        <div className="jp-Track-error" role="alert">
          {state.error}
        </div>
      ) : null}
      {!state.traces.length && !state.loading && !state.error ? (
        <div className="jp-Track-empty">
          No traces{state.filter ? ' match this filter' : ' yet'}. Decorate a
          function with <code>@jt.trace</code> or call{' '}
          <code>jt.openai.autolog()</code>.
        </div>
      ) : null}
      {state.traces.length ? (
        <table className="jp-Track-table jp-Track-traces-table">
          <thead>
            <tr>
              <th />
              <th>trace</th>
              <th>request</th>
              <th>latency</th>
              <th>tokens</th>
              <th>started</th>
              <th>run</th>
            </tr>
          </thead>
          <tbody>
            {state.traces.map(t => (
              <tr
                key={t.trace_id}
                data-trace-id={t.trace_id}
                className={
                  'jp-Track-trace-row' +
                  (t.status === 'ERROR' ? ' jp-mod-error' : '')
                }
              >
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${t.name ?? t.trace_id} to compare`}
                    checked={state.selection.includes(t.trace_id)}
                    onChange={() => state.toggleSelected(t.trace_id)}
                  />
                </td>
                <td>
                  <button
                    className="jp-Track-linkbutton jp-Track-trace-open"
                    title={`Open trace ${t.trace_id}`}
                    onClick={() => void state.openTrace(t.trace_id)}
                  >
                    <span
                      className={`jp-TraceView-status jp-mod-${t.status.toLowerCase()}`}
                      title={t.status}
                    />{' '}
                    {t.name ?? t.trace_id}
                  </button>
                  {t.assessments.length ? (
                    <span
                      className="jp-Track-muted"
                      title="Feedback and expectations"
                    >
                      {' '}
                      ({t.assessments.length})
                    </span>
                  ) : null}
                </td>
                <td
                  className="jp-Track-trace-preview"
                  title={t.request_preview ?? ''}
                >
                  {t.request_preview ?? ''}
                </td>
                <td>
                  {t.execution_time_ms === null
                    ? 'running'
                    : formatDuration(t.execution_time_ms)}
                </td>
                <td>{t.tokens ? t.tokens.total : ''}</td>
                <td title={String(t.start_time)}>
                  {formatShortTime(t.start_time)}
                </td>
                <td>
                  {t.run_id ? (
                    <button
                      className="jp-Track-linkbutton"
                      title={`Open run ${t.run_id}`}
                      onClick={() => props.onOpenRun(t.run_id as string)}
                    >
                      run
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {state.nextPageToken ? (
        <button
          className="jp-Track-button"
          onClick={() => void state.loadMore()}
        >
          Load more
        </button>
      ) : null}
    </div>
  );
}

export function TracesView(props: ITracesViewProps): JSX.Element {
  const { state } = props;
  if (state.mode === 'list') {
    return <List {...props} />;
  }
  const back = (
    <button
      className="jp-Track-button"
      title="Back to the list of traces"
      onClick={() => state.backToList()}
    >
      ← Traces
    </button>
  );
  let body: JSX.Element;
  if (state.openError) {
    body = (
      <div className="jp-Track-error" role="alert">
        {state.openError}
      </div>
    );
  } else if (state.mode === 'trace') {
    body = state.open ? (
      <TraceViewHost trace={state.open} onOpenRun={props.onOpenRun} />
    ) : (
      <div className="jp-Track-muted">Loading…</div>
    );
  } else {
    body = state.compared ? (
      <TraceComparisonHost
        traces={state.compared}
        onOpenRun={props.onOpenRun}
      />
    ) : (
      <div className="jp-Track-muted">Loading…</div>
    );
  }
  return (
    <div className="jp-Track-traces-detail">
      <div className="jp-Track-detail-toolbar">{back}</div>
      {body}
    </div>
  );
}
