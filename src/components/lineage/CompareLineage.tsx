/**
 * The compare view's lineage part: a warning when runs trained on different data under one
 * name, the digest of each input per run and the packages whose versions differ.
 */
import * as React from 'react';

import type { IAlignedText, IRunAttributes } from '../../api';
import type { IComparisonLineage } from './lineageApi';

function Rows(props: {
  title: string;
  name: string;
  rows: IAlignedText[];
  runs: IRunAttributes[];
  short?: boolean;
}): JSX.Element | null {
  if (!props.rows.length) {
    return null;
  }
  return (
    <tbody data-section={props.name}>
      <tr className="jp-Track-compare-group">
        <th colSpan={props.runs.length + 1}>
          {props.title}{' '}
          <span className="jp-Track-muted">({props.rows.length})</span>
        </th>
      </tr>
      {props.rows.map(row => (
        <tr
          key={row.key}
          className={row.differs ? 'jp-mod-differs' : ''}
          data-key={`${props.name}.${row.key}`}
        >
          <th scope="row" title={row.key}>
            {row.key}
          </th>
          {row.values.map((v, i) => (
            <td key={props.runs[i]?.run_id ?? i} title={v ?? ''}>
              {v === null ? '—' : props.short ? v.slice(0, 12) : v}
            </td>
          ))}
        </tr>
      ))}
    </tbody>
  );
}

export function CompareLineage(props: {
  comparison: IComparisonLineage & { runs: IRunAttributes[] };
  differencesOnly: boolean;
}): JSX.Element | null {
  const c = props.comparison;
  const keep = (row: IAlignedText): boolean =>
    !props.differencesOnly || row.differs;
  const environment = (c.environment?.rows ?? []).filter(keep);
  const data = (c.data ?? []).filter(keep);
  const warnings = c.warnings ?? [];
  if (!environment.length && !data.length && !warnings.length) {
    return null;
  }
  return (
    <div className="jp-Track-compare-lineage">
      {warnings.map((w, i) => (
        <div key={i} className="jp-Track-banner jp-Track-warning" role="note">
          {w}
        </div>
      ))}
      <div className="jp-Track-compare-tablewrap">
        <table className="jp-Track-compare-table">
          <Rows title="Data" name="data" rows={data} runs={c.runs} short />
          <Rows
            title="Environment"
            name="environment"
            rows={environment}
            runs={c.runs}
          />
        </table>
      </div>
    </div>
  );
}
