/**
 * The lineage routes: a run's lineage, reproducing a run, a model version's lineage report,
 * and the lineage parts of a comparison (environment rows, data digests, warnings).
 */
import { apiUrl, requestAPI } from '../../api';
import type { IAlignedText } from '../../api';

export interface ILineageFlag {
  code: string;
  message: string;
  cells: string[];
}

export interface ILineageCell {
  execution_count: number | null;
  cell_id: string | null;
  source: string;
  provides: string[];
  status: string;
}

export interface ISeed {
  call: string;
  value: string | number | boolean | null;
  name: string | null;
  cell: string;
}

export interface IRunLineage {
  stale: boolean;
  unseeded: boolean;
  unseeded_libraries?: string[];
  flags: ILineageFlag[];
  seeds: ISeed[];
  unknown: string[];
  cells: ILineageCell[];
  notebook: string | null;
}

export interface IReproduction {
  run_id: string;
  folder: string;
  notebook: string;
  files: string[];
  cells: number;
  warnings: string[];
  missing: string[];
}

export interface IEnvironmentSection {
  rows: IAlignedText[];
  summary: {
    added: number;
    removed: number;
    changed: number;
    recorded: boolean;
  }[];
}

/** What the REST comparison adds about lineage (absent on older servers). */
export interface IComparisonLineage {
  environment?: IEnvironmentSection;
  data?: IAlignedText[];
  warnings?: string[];
}

export interface IAliasPeriod {
  alias: string;
  since: number;
  set_by: string;
  until: number | null;
}

export interface IVersionLineage {
  model: { name: string; version: number; aliases: string[] };
  registered_by: { user: string | null; timestamp: number | null };
  aliases_held: IAliasPeriod[];
  run: {
    run_id: string;
    run_name: string | null;
    experiment: string | null;
  } | null;
  datasets: { name: string; digest: string; source?: string }[];
  code: {
    git: { commit: string | null; dirty: boolean | null };
    flags: ILineageFlag[];
  } | null;
  missing: string[];
}

const runPath = (runId: string, rest: string): string =>
  `runs/${encodeURIComponent(runId)}/${rest}`;

const versionPath = (name: string, version: number): string =>
  `registry/models/${encodeURIComponent(name)}/versions/${version}/lineage`;

export const lineageApi = {
  runLineage: async (runId: string): Promise<IRunLineage | null> =>
    (
      await requestAPI<{ run_id: string; lineage: IRunLineage | null }>(
        runPath(runId, 'lineage')
      )
    ).lineage,

  reproduce: (runId: string, force = false): Promise<IReproduction> =>
    requestAPI<IReproduction>(runPath(runId, 'reproduce'), {
      init: { method: 'POST', body: JSON.stringify({ force }) }
    }),

  versionLineage: (name: string, version: number): Promise<IVersionLineage> =>
    requestAPI<IVersionLineage>(versionPath(name, version)),

  /** The self-contained HTML report (opened in a browser tab, or downloaded). */
  versionReportUrl: (name: string, version: number, download = false): string =>
    apiUrl(versionPath(name, version), {
      format: 'html',
      download: download || undefined
    })
};
