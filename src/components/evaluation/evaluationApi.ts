/**
 * The evaluation routes of the REST API (`docs/openapi.yaml`, `/evaluations...`): one run's
 * per-row results and two runs compared row by row.
 */
import { requestAPI } from '../../api';

export interface IScorerInfo {
  kind: string;
  higher_is_better: boolean;
}

export interface IEvaluationTable {
  run_id: string;
  columns: string[];
  data: unknown[][];
  scorers: Record<string, IScorerInfo>;
}

export type Change = 'worse' | 'better' | 'same' | 'changed' | 'missing';

export interface IRowScore {
  a: unknown;
  b: unknown;
  rationale_a: string | null;
  rationale_b: string | null;
  change: Change;
}

export interface IComparedRow {
  inputs: unknown;
  expectations: unknown;
  outputs_a: unknown;
  outputs_b: unknown;
  trace_a: string | null;
  trace_b: string | null;
  scores: Record<string, IRowScore>;
  worse: boolean;
  better: boolean;
}

export interface IEvaluationComparison {
  /** The older run first (A, the baseline), then the newer (B). */
  run_ids: string[];
  runs: { run_id: string; run_name: string | null }[];
  scorers: string[];
  rows: IComparedRow[];
  summary: Record<string, { worse: number; better: number }>;
}

export const evaluationApi = {
  table: (runId: string, signal?: AbortSignal): Promise<IEvaluationTable> =>
    requestAPI<IEvaluationTable>(`evaluations/${encodeURIComponent(runId)}`, {
      signal
    }),
  compare: (
    runIds: readonly string[],
    signal?: AbortSignal
  ): Promise<IEvaluationComparison> =>
    requestAPI<IEvaluationComparison>('evaluations/compare', {
      query: { run_ids: runIds },
      signal
    })
};

/** A value of the table as short text (strings as they are, other values as JSON). */
export function cellText(value: unknown, limit = 160): string {
  const text =
    value === null || value === undefined
      ? '—'
      : typeof value === 'string'
        ? value
        : JSON.stringify(value);
  return text.length > limit ? text.slice(0, limit) + '…' : text;
}
