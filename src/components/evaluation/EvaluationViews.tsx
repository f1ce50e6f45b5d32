/**
 * Evaluation runs (`jt.evaluate`) in the sidebar: the per-row results of one run (Run tab)
 * and two runs row by row, the rows that got worse first (Compare tab). A click on a row's
 * trace opens it in the Traces tab (through the `jupyter-track:open-trace` DOM event).
 */
import * as React from 'react';

import { OPEN_TRACE } from '../traces/RunTraces';
import {
  cellText,
  evaluationApi,
  IEvaluationComparison,
  IEvaluationTable
} from './evaluationApi';

function openTrace(node: HTMLElement | null, traceId: string): void {
  node?.dispatchEvent(
    new CustomEvent(OPEN_TRACE, {
      detail: { traceId, handled: false },
      bubbles: true
    })
  );
}

function scoreClass(value: unknown): string {
  if (value === true || value === 'yes' || value === 'pass') {
    return 'jp-mod-pass';
  }
  if (value === false || value === 'no' || value === 'fail') {
    return 'jp-mod-fail';
  }
  return '';
}

/** The per-row results of one evaluation run. */
export function EvaluationTable(props: { runId: string }): JSX.Element {
  const [table, setTable] = React.useState<IEvaluationTable | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const node = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    const abort = new AbortController();
    evaluationApi
      .table(props.runId, abort.signal)
      .then(setTable)
      .catch(e => !abort.signal.aborted && setError(String(e.message ?? e)));
    return () => abort.abort();
  }, [props.runId]);
  if (error) {
    return <div className="jp-Track-error">{error}</div>;
  }
  if (!table) {
    return <div className="jp-Track-muted">Loading…</div>;
  }
  const col = (name: string): number => table.columns.indexOf(name);
  const scorers = Object.keys(table.scorers).length
    ? Object.keys(table.scorers)
    : table.columns.filter(c => c.endsWith('/value')).map(c => c.slice(0, -6));
  return (
    <div ref={node} className="jp-Track-evaluation">
      <table className="jp-Track-table jp-Track-evaluation-table">
        <thead>
          <tr>
            <th>#</th>
            <th>inputs</th>
            <th>outputs</th>
            {scorers.map(s => (
              <th key={s}>{s}</th>
            ))}
            <th>trace</th>
          </tr>
        </thead>
        <tbody>
          {table.data.map((line, n) => {
            const trace = line[col('trace_id')];
            const error = line[col('error')];
            return (
              <tr key={n} data-row={n}>
                <td>{String(line[col('row')])}</td>
                <td title={cellText(line[col('inputs')], 2000)}>
                  {cellText(line[col('inputs')])}
                </td>
                <td title={cellText(line[col('outputs')], 2000)}>
                  {error ? (
                    <span className="jp-Track-error-text">{String(error)}</span>
                  ) : (
                    cellText(line[col('outputs')])
                  )}
                </td>
                {scorers.map(s => {
                  const value = line[col(`${s}/value`)];
                  const rationale = line[col(`${s}/rationale`)];
                  return (
                    <td
                      key={s}
                      className={'jp-Track-score ' + scoreClass(value)}
                      title={rationale ? String(rationale) : undefined}
                    >
                      {cellText(value, 40)}
                    </td>
                  );
                })}
                <td>
                  {typeof trace === 'string' ? (
                    <button
                      className="jp-Track-linkbutton"
                      title={`Open trace ${trace}`}
                      onClick={() => openTrace(node.current, trace)}
                    >
                      trace
                    </button>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Two evaluation runs row by row; nothing when the runs are not both evaluation runs. */
export function EvaluationCompare(props: {
  runIds: readonly string[];
}): JSX.Element | null {
  const [result, setResult] = React.useState<IEvaluationComparison | null>(
    null
  );
  const node = React.useRef<HTMLElement>(null);
  const key = props.runIds.join(',');
  React.useEffect(() => {
    setResult(null);
    if (props.runIds.length !== 2) {
      return;
    }
    const abort = new AbortController();
    evaluationApi
      .compare(props.runIds, abort.signal)
      .then(setResult)
      .catch(() => undefined); // not evaluation runs: the section stays hidden
    return () => abort.abort();
  }, [key]);
  if (!result) {
    return null;
  }
  return (
    <section
      ref={node}
      className="jp-Track-compare-chart jp-Track-evaluation-compare"
    >
      <h3>
        Evaluation rows: {result.runs[0].run_name ?? 'A'} (A) →{' '}
        {result.runs[1].run_name ?? 'B'} (B)
      </h3>
      <div className="jp-Track-evaluation-summary">
        {result.scorers.map(s => (
          <span key={s} className="jp-Track-metric" data-scorer={s}>
            {s}: {result.summary[s].worse} worse, {result.summary[s].better}{' '}
            better
          </span>
        ))}
      </div>
      <table className="jp-Track-table jp-Track-evaluation-table">
        <thead>
          <tr>
            <th>inputs</th>
            <th>outputs A</th>
            <th>outputs B</th>
            {result.scorers.map(s => (
              <th key={s}>{s}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[...result.rows]
            .sort((x, y) => Number(y.worse) - Number(x.worse))
            .map((row, n) => (
              <tr
                key={n}
                className={
                  row.worse ? 'jp-mod-worse' : row.better ? 'jp-mod-better' : ''
                }
              >
                <td title={cellText(row.inputs, 2000)}>
                  {cellText(row.inputs)}
                </td>
                <td>
                  {row.trace_a ? (
                    <button
                      className="jp-Track-linkbutton"
                      title="Open trace A"
                      onClick={() =>
                        openTrace(node.current, row.trace_a as string)
                      }
                    >
                      {cellText(row.outputs_a, 80)}
                    </button>
                  ) : (
                    cellText(row.outputs_a, 80)
                  )}
                </td>
                <td>
                  {row.trace_b ? (
                    <button
                      className="jp-Track-linkbutton"
                      title="Open trace B"
                      onClick={() =>
                        openTrace(node.current, row.trace_b as string)
                      }
                    >
                      {cellText(row.outputs_b, 80)}
                    </button>
                  ) : (
                    cellText(row.outputs_b, 80)
                  )}
                </td>
                {result.scorers.map(s => {
                  const score = row.scores[s];
                  return (
                    <td
                      key={s}
                      className={`jp-Track-score jp-mod-${score.change}`}
                      title={[score.rationale_a, score.rationale_b]
                        .filter(Boolean)
                        .join(' → ')}
                    >
                      {cellText(score.a, 20)} → {cellText(score.b, 20)}
                    </td>
                  );
                })}
              </tr>
            ))}
        </tbody>
      </table>
    </section>
  );
}
