/**
 * "Lineage" on a model version (Models tab): the version's source run, data, code state and the
 * aliases it held, with links to the self-contained HTML report (open or download).
 */
import * as React from 'react';

import { formatTime } from '../../format';
import { IVersionLineage, lineageApi } from './lineageApi';

export function VersionLineage(props: {
  name: string;
  version: number;
}): JSX.Element {
  const [open, setOpen] = React.useState(false);
  const [lineage, setLineage] = React.useState<IVersionLineage | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    if (!open) {
      return;
    }
    let live = true;
    setError(null);
    lineageApi
      .versionLineage(props.name, props.version)
      .then(found => live && setLineage(found))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [open, props.name, props.version]);
  return (
    <span className="jp-Track-version-lineage">
      <button
        className="jp-Track-lineage-toggle"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        Lineage
      </button>
      {open ? (
        <div className="jp-Track-lineage-card">
          {error ? <div className="jp-Track-error">{error}</div> : null}
          {!error && !lineage ? (
            <div className="jp-Track-muted">Loading…</div>
          ) : null}
          {lineage ? (
            <>
              <div>
                Run{' '}
                <code>
                  {lineage.run
                    ? `${lineage.run.run_name ?? ''} (${lineage.run.run_id.slice(0, 8)})`
                    : 'none'}
                </code>
                {lineage.run?.experiment ? ` in ${lineage.run.experiment}` : ''}
              </div>
              <div>
                Registered by {lineage.registered_by.user ?? '?'}{' '}
                {formatTime(lineage.registered_by.timestamp)}
              </div>
              <div className="jp-Track-lineage-datasets">
                Data:{' '}
                {lineage.datasets.length
                  ? lineage.datasets
                      .map(d => `${d.name} (${d.digest.slice(0, 12)})`)
                      .join(', ')
                  : 'none recorded'}
              </div>
              <div>
                Code:{' '}
                {lineage.code?.git.commit
                  ? `${lineage.code.git.commit.slice(0, 10)}${lineage.code.git.dirty ? ' (dirty)' : ''}`
                  : 'no git commit'}
                {lineage.code?.flags.length
                  ? ` · stale: ${lineage.code.flags.map(f => f.code).join(', ')}`
                  : ''}
              </div>
              <div className="jp-Track-lineage-aliases">
                Aliases held:{' '}
                {lineage.aliases_held.length
                  ? lineage.aliases_held
                      .map(
                        p =>
                          `${p.alias} (${formatTime(p.since)} – ${p.until ? formatTime(p.until) : 'now'})`
                      )
                      .join(', ')
                  : 'none'}
              </div>
              {lineage.missing.map((m, i) => (
                <div key={i} className="jp-Track-muted">
                  missing: {m}
                </div>
              ))}
              <div className="jp-Track-lineage-links">
                <a
                  className="jp-Track-lineage-report"
                  href={lineageApi.versionReportUrl(props.name, props.version)}
                  target="_blank"
                  rel="noopener noreferrer"
                >
                  Open the report
                </a>{' '}
                ·{' '}
                <a
                  href={lineageApi.versionReportUrl(
                    props.name,
                    props.version,
                    true
                  )}
                  download
                >
                  Download (HTML)
                </a>
              </div>
            </>
          ) : null}
        </div>
      ) : null}
    </span>
  );
}
