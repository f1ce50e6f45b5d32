/**
 * The Traces tab's state: the list (experiment, filter, pages, polling while shown), the trace
 * open in the view, and the two traces compared. No DOM: `TracesTab` renders it.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError } from '../../api';
import type { IFilterError } from '../../model';
import type { ITraceDetail } from '../../traceview/model';
import { ITraceListItem, TracesApi } from './tracesApi';

export type TracesMode = 'list' | 'trace' | 'compare';

const PAGE = 100;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class TracesState {
  constructor(private _api: TracesApi) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  mode: TracesMode = 'list';
  experimentId = '';
  filter = '';
  filterError: IFilterError | null = null;
  error: string | null = null;
  loading = false;
  traces: ITraceListItem[] = [];
  nextPageToken: string | null = null;
  /** Trace ids ticked for comparing (at most two). */
  selection: string[] = [];
  open: ITraceDetail | null = null;
  openError: string | null = null;
  compared: [ITraceDetail, ITraceDetail] | null = null;

  setExperiment(experimentId: string): void {
    this.experimentId = experimentId;
    void this.refresh();
  }

  setFilter(filter: string): void {
    this.filter = filter.trim();
    void this.refresh();
  }

  /** Reload the first page (keeps what is open). */
  async refresh(): Promise<void> {
    this._abort?.abort();
    const abort = (this._abort = new AbortController());
    this.loading = true;
    this._changed.emit();
    try {
      const page = await this._api.list(
        {
          experimentIds: this.experimentId ? [this.experimentId] : [],
          filter: this.filter,
          limit: PAGE
        },
        abort.signal
      );
      if (abort.signal.aborted) {
        return;
      }
      this.traces = page.traces;
      this.nextPageToken = page.next_page_token;
      this.filterError = null;
      this.error = null;
    } catch (error) {
      if (abort.signal.aborted) {
        return;
      }
      if (error instanceof ApiError && error.isFilterError) {
        this.filterError = {
          message: error.message,
          position: error.position,
          expected: error.body?.expected,
          found: error.body?.found
        };
        this.traces = [];
        this.nextPageToken = null;
      } else {
        this.error = message(error);
      }
    } finally {
      if (!abort.signal.aborted) {
        this.loading = false;
        this._changed.emit();
      }
    }
  }

  async loadMore(): Promise<void> {
    if (!this.nextPageToken) {
      return;
    }
    try {
      const page = await this._api.list({
        experimentIds: this.experimentId ? [this.experimentId] : [],
        filter: this.filter,
        limit: PAGE,
        pageToken: this.nextPageToken
      });
      const known = new Set(this.traces.map(t => t.trace_id));
      this.traces = [
        ...this.traces,
        ...page.traces.filter(t => !known.has(t.trace_id))
      ];
      this.nextPageToken = page.next_page_token;
    } catch (error) {
      this.error = message(error);
    }
    this._changed.emit();
  }

  toggleSelected(traceId: string): void {
    if (this.selection.includes(traceId)) {
      this.selection = this.selection.filter(id => id !== traceId);
    } else {
      this.selection = [...this.selection, traceId].slice(-2);
    }
    this._changed.emit();
  }

  /** Open one trace in the view (also from outside: a widget, a run's detail). */
  async openTrace(traceId: string): Promise<void> {
    this.mode = 'trace';
    this.openError = null;
    if (this.open?.info.trace_id !== traceId) {
      this.open = null;
    }
    this._changed.emit();
    try {
      this.open = await this._api.get(traceId);
    } catch (error) {
      this.openError = message(error);
    }
    this._changed.emit();
  }

  /** Compare the two ticked traces side by side. */
  async compareSelected(): Promise<void> {
    if (this.selection.length !== 2) {
      return;
    }
    this.mode = 'compare';
    this.compared = null;
    this.openError = null;
    this._changed.emit();
    try {
      const [a, b] = await Promise.all(
        this.selection.map(id => this._api.get(id))
      );
      this.compared = [a, b];
    } catch (error) {
      this.openError = message(error);
    }
    this._changed.emit();
  }

  backToList(): void {
    this.mode = 'list';
    this._changed.emit();
  }

  /** Re-read what is shown (polling while the tab is visible). */
  async poll(): Promise<void> {
    if (this.mode === 'list') {
      await this.refresh();
    } else if (
      this.mode === 'trace' &&
      this.open &&
      this.open.info.status === 'IN_PROGRESS'
    ) {
      await this.openTrace(this.open.info.trace_id);
    }
  }

  dispose(): void {
    this._abort?.abort();
    Signal.clearData(this);
  }

  private _abort: AbortController | null = null;
  private _changed = new Signal<this, void>(this);
}
