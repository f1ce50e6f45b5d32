/**
 * The trace routes of the REST API (`docs/openapi.yaml`, `/traces...`), through the one
 * request helper of `src/api.ts`.
 */
import { requestAPI } from '../../api';
import type {
  IAssessment,
  ITraceDetail,
  ITraceInfo
} from '../../traceview/model';

export interface ITraceListItem extends ITraceInfo {
  assessments: IAssessment[];
}

export interface ITracePage {
  traces: ITraceListItem[];
  next_page_token: string | null;
}

export interface ITracesQuery {
  experimentIds?: string[];
  filter?: string;
  runId?: string;
  limit?: number;
  pageToken?: string | null;
}

export const tracesApi = {
  list: (query: ITracesQuery, signal?: AbortSignal): Promise<ITracePage> =>
    requestAPI<ITracePage>('traces', {
      query: {
        experiment_ids: query.experimentIds?.length
          ? query.experimentIds
          : null,
        filter: query.filter || null,
        run_id: query.runId ?? null,
        limit: query.limit ?? 100,
        page_token: query.pageToken ?? null
      },
      signal
    }),
  get: (traceId: string, signal?: AbortSignal): Promise<ITraceDetail> =>
    requestAPI<ITraceDetail>(`traces/${encodeURIComponent(traceId)}`, {
      signal
    }),
  remove: (traceId: string): Promise<void> =>
    requestAPI<void>(`traces/${encodeURIComponent(traceId)}`, {
      init: { method: 'DELETE' }
    })
};

export type TracesApi = typeof tracesApi;
