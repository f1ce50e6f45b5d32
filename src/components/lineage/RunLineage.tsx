/**
 * The run detail's "Lineage" section: stale-state flags, seeds, the executed cells the run
 * depended on, and the "Reproduce" button (writes a reproduction folder beside the notebooks
 * and offers to open its notebook). Every user string is rendered as text by React.
 */
import * as React from 'react';

import { ApiError } from '../../api';
import type { IRunDetail } from '../../api';
import { IReproduction, IRunLineage, lineageApi } from './lineageApi';

type State =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; lineage: IRunLineage | null };

type Repro =
  | { kind: 'idle' }
  | { kind: 'working' }
  | { kind: 'exists'; message: string }
  | { kind: 'error'; message: string }
  | { kind: 'done'; result: IReproduction };

function seedText(seed: IRunLineage['seeds'][number]): string {
  return `${seed.call}=${seed.value ?? seed.name ?? '?'}`;
}

export function RunLineage(props: {
  run: IRunDetail;
  onOpenFile(path: string): void;
}): JSX.Element {
  const runId = props.run.run_id;
  const [state, setState] = React.useState<State>({ kind: 'loading' });
  const [repro, setRepro] = React.useState<Repro>({ kind: 'idle' });
  React.useEffect(() => {
    let live = true;
    setState({ kind: 'loading' });
    setRepro({ kind: 'idle' });
    lineageApi
      .runLineage(runId)
      .then(lineage => live && setState({ kind: 'ready', lineage }))
      .catch(
        (error: Error) =>
          live && setState({ kind: 'error', message: error.message })
      );
    return () => {
      live = false;
    };
  }, [runId]);

  const reproduce = (force: boolean): void => {
    setRepro({ kind: 'working' });
    lineageApi
      .reproduce(runId, force)
      .then(result => setRepro({ kind: 'done', result }))
      .catch((error: Error) => {
        if (error instanceof ApiError && error.status === 409) {
          setRepro({ kind: 'exists', message: error.message });
        } else {
          setRepro({ kind: 'error', message: error.message });
        }
      });
  };

  let body: React.ReactNode;
  if (state.kind === 'loading') {
    body = <div className="jp-Track-muted">Loading…</div>;
  } else if (state.kind === 'error') {
    body = <div className="jp-Track-error">{state.message}</div>;
  } else if (!state.lineage) {
    body = (
      <div className="jp-Track-muted">
        No cell log for this run (made by a script?): a reproduction holds what
        is known.
      </div>
    );
  } else {
    const l = state.lineage;
    body = (
      <>
        <div
          className="jp-Track-lineage-status"
          data-stale={String(l.stale)}
          data-unseeded={String(l.unseeded)}
        >
          {l.stale ? 'Stale state' : 'No stale state'}
          {l.unseeded
            ? ` · unseeded (${(l.unseeded_libraries ?? []).join(', ')})`
            : ''}
        </div>
        {l.flags.length ? (
          <ul className="jp-Track-lineage-flags">
            {l.flags.map((flag, i) => (
              <li key={i} data-code={flag.code}>
                <code>{flag.code}</code> {flag.message}
              </li>
            ))}
          </ul>
        ) : null}
        {l.seeds.length ? (
          <div className="jp-Track-lineage-seeds">
            Seeds: {l.seeds.map(seedText).join(', ')}
          </div>
        ) : null}
        <details className="jp-Track-lineage-cells">
          <summary>
            Depends on {l.cells.length} executed cell
            {l.cells.length === 1 ? '' : 's'}
          </summary>
          {l.cells.map((cell, i) => (
            <div key={i} className="jp-Track-lineage-cell">
              <div className="jp-Track-muted">
                [{cell.execution_count ?? '?'}] provides{' '}
                {cell.provides.join(', ')}
              </div>
              <pre>{cell.source}</pre>
            </div>
          ))}
        </details>
      </>
    );
  }

  return (
    <div className="jp-Track-lineage">
      {body}
      <div className="jp-Track-lineage-actions">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept jp-Track-reproduce"
          disabled={repro.kind === 'working'}
          onClick={() => reproduce(false)}
          title="Write a folder with reproduce.ipynb, requirements.txt, git.diff and a data check"
        >
          Reproduce
        </button>
        {repro.kind === 'working' ? (
          <span className="jp-Track-muted"> writing…</span>
        ) : null}
      </div>
      {repro.kind === 'exists' ? (
        <div className="jp-Track-lineage-result" role="alert">
          {repro.message}{' '}
          <button
            className="jp-Button jp-mod-styled jp-mod-warn"
            onClick={() => reproduce(true)}
          >
            Replace it
          </button>
        </div>
      ) : null}
      {repro.kind === 'error' ? (
        <div className="jp-Track-error" role="alert">
          {repro.message}
        </div>
      ) : null}
      {repro.kind === 'done' ? (
        <div className="jp-Track-lineage-result" role="status">
          Wrote <code>{repro.result.folder}/</code> (
          {repro.result.files.join(', ')}){' '}
          <button
            className="jp-Button jp-mod-styled jp-Track-open-reproduction"
            onClick={() => props.onOpenFile(repro.result.notebook)}
          >
            Open reproduce.ipynb
          </button>
          {repro.result.warnings.map((w, i) => (
            <div key={`w${i}`} className="jp-Track-muted">
              warning: {w}
            </div>
          ))}
          {repro.result.missing.map((m, i) => (
            <div key={`m${i}`} className="jp-Track-muted">
              missing: {m}
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
