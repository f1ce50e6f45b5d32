/**
 * The traces of a run, for the Run tab: a short list; a click opens the trace in the Traces
 * tab (through the `jupyter-track:open-trace` DOM event the traces plugin answers).
 */
import * as React from 'react';

import { formatDuration } from '../../format';
import { ITraceListItem, tracesApi } from './tracesApi';

export const OPEN_TRACE = 'jupyter-track:open-trace';

export function RunTraces(props: { runId: string }): JSX.Element {
  const [traces, setTraces] = React.useState<ITraceListItem[] | null>(null);
  const [more, setMore] = React.useState(false);
  const node = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    const abort = new AbortController();
    tracesApi
      .list({ runId: props.runId, limit: 50 }, abort.signal)
      .then(page => {
        setTraces(page.traces);
        setMore(!!page.next_page_token);
      })
      .catch(() => {
        if (!abort.signal.aborted) {
          setTraces([]);
        }
      });
    return () => abort.abort();
  }, [props.runId]);
  if (traces === null) {
    return <div className="jp-Track-muted">Loading…</div>;
  }
  if (!traces.length) {
    return <div className="jp-Track-muted">none</div>;
  }
  const open = (traceId: string): void => {
    node.current?.dispatchEvent(
      new CustomEvent(OPEN_TRACE, {
        detail: { traceId, handled: false },
        bubbles: true
      })
    );
  };
  return (
    <div ref={node} className="jp-Track-run-traces">
      <table className="jp-Track-kv">
        <tbody>
          {traces.map(t => (
            <tr key={t.trace_id} data-trace-id={t.trace_id}>
              <td>
                <button
                  className="jp-Track-linkbutton"
                  title={`Open trace ${t.trace_id} in the Traces tab`}
                  onClick={() => open(t.trace_id)}
                >
                  <span
                    className={`jp-TraceView-status jp-mod-${t.status.toLowerCase()}`}
                  />{' '}
                  {t.name ?? t.trace_id}
                </button>
              </td>
              <td>
                {t.execution_time_ms === null
                  ? 'running'
                  : formatDuration(t.execution_time_ms)}
              </td>
              <td className="jp-Track-trace-preview">
                {t.request_preview ?? ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {more ? (
        <div className="jp-Track-muted">… more in the Traces tab</div>
      ) : null}
    </div>
  );
}
