/**
 * jt.live(): a learning-curve chart that grows while the cell runs.
 *
 * The kernel sends the downsampled history in the `points` trait when it (re)starts a series
 * layout, and small deltas as custom messages in between: `{type: "delta", updates: [{series,
 * keep, rows}]}` means "truncate series to `keep` points, then append `rows`" (the last bucket
 * of a series is rewritten as it fills). A model-level state applies both, so a view created
 * later starts from the current data; views coalesce redraws to one per animation frame.
 */

import { h, showError } from './lib/dom';
import type { AnyModel, Cleanup, WidgetModule } from './lib/types';
import {
  draw,
  loadRuntime,
  type Result,
  type VisualizationSpec
} from './lib/vega';

interface Row {
  run: string;
  i: number;
  [field: string]: unknown;
}

interface Update {
  series: string;
  keep: number;
  rows: Row[];
}

interface LiveTraits {
  spec: Record<string, unknown>;
  points: Row[];
  status: string;
  _uid: string;
  _vega: string;
}

const DATASET = 'points';

class LiveState extends EventTarget {
  private series = new Map<string, Row[]>();

  reset(points: Row[]): void {
    this.series = new Map();
    for (const row of points) {
      let rows = this.series.get(row.run);
      if (!rows) {
        rows = [];
        this.series.set(row.run, rows);
      }
      rows.push(row);
    }
    this.dispatchEvent(new Event('reset'));
  }

  apply(updates: Update[]): void {
    const touched = new Map<string, number>();
    for (const { series, keep, rows } of updates) {
      let current = this.series.get(series);
      if (!current) {
        current = [];
        this.series.set(series, current);
      }
      const cut = Math.min(keep, current.length);
      current.length = cut;
      current.push(...rows);
      touched.set(series, Math.min(cut, touched.get(series) ?? Infinity));
    }
    this.dispatchEvent(new CustomEvent('delta', { detail: touched }));
  }

  rows(series: string): Row[] {
    return this.series.get(series) ?? [];
  }

  all(): Row[] {
    return ([] as Row[]).concat(...this.series.values());
  }

  get count(): number {
    let n = 0;
    for (const rows of this.series.values()) {
      n += rows.length;
    }
    return n;
  }
}

const states = new Map<string, LiveState>();

function stateFor(model: AnyModel<LiveTraits>): LiveState {
  const uid = model.get('_uid');
  let state = states.get(uid);
  if (!state) {
    state = new LiveState();
    state.reset(model.get('points') ?? []);
    states.set(uid, state);
  }
  return state;
}

function withData(
  spec: Record<string, unknown>,
  rows: Row[]
): VisualizationSpec {
  const datasets = (spec.datasets as Record<string, unknown> | undefined) ?? {};
  return {
    ...spec,
    datasets: { ...datasets, [DATASET]: rows }
  } as VisualizationSpec;
}

const live: WidgetModule<LiveTraits> = {
  initialize({ model }) {
    const state = stateFor(model);
    const onPoints = (): void => state.reset(model.get('points') ?? []);
    const onMessage = (...args: unknown[]): void => {
      const msg = args[0] as { type?: string; updates?: Update[] } | undefined;
      if (msg?.type === 'delta' && Array.isArray(msg.updates)) {
        state.apply(msg.updates);
      }
    };
    model.on('change:points', onPoints);
    model.on('msg:custom', onMessage);
    return () => {
      model.off('change:points', onPoints);
      model.off('msg:custom', onMessage);
    };
  },

  async render({ model, el }): Promise<Cleanup> {
    el.classList.add('jp-Track-w', 'jp-Track-live');
    const status = h('div', { className: 'jp-Track-w-status' });
    const chart = h('div', { className: 'jp-Track-w-chart' });
    el.replaceChildren(status, chart);
    const showStatus = (): void => {
      status.textContent = model.get('status');
    };
    showStatus();
    model.on('change:status', showStatus);

    const state = stateFor(model);
    let result: Result | null = null;
    let closed = false;
    let drawing = false;
    let full = true;
    let frame = 0;
    let pending = new Map<string, number>();

    const markDrawn = (): void => {
      el.dataset.points = String(state.count);
    };

    const redraw = async (): Promise<void> => {
      drawing = true;
      full = false;
      pending = new Map();
      try {
        const runtime = await loadRuntime(model);
        result?.finalize();
        result = null;
        const drawn = await draw(
          runtime,
          chart,
          withData(model.get('spec'), state.all())
        );
        if (closed) {
          drawn.finalize();
          return;
        }
        result = drawn;
        markDrawn();
      } catch (error) {
        showError(chart, `Cannot draw the chart: ${(error as Error).message}`);
      } finally {
        drawing = false;
      }
      if (pending.size || full) {
        schedule();
      }
    };

    const flush = async (): Promise<void> => {
      frame = 0;
      if (closed || drawing) {
        return;
      }
      if (full || !result) {
        await redraw();
        return;
      }
      const touched = pending;
      pending = new Map();
      const runtime = await loadRuntime(model);
      const inserts: Row[] = [];
      for (const [series, keep] of touched) {
        inserts.push(...state.rows(series).slice(keep));
      }
      const changes = runtime
        .changeset()
        .remove((d: Row) => {
          const keep = touched.get(d.run);
          return keep !== undefined && d.i >= keep;
        })
        .insert(inserts);
      await result.view.change(DATASET, changes).runAsync();
      markDrawn();
    };

    const schedule = (): void => {
      if (!frame && !closed) {
        frame = requestAnimationFrame(() => void flush());
      }
    };

    const onReset = (): void => {
      full = true;
      schedule();
    };
    const onDelta = (event: Event): void => {
      for (const [series, keep] of (event as CustomEvent<Map<string, number>>)
        .detail) {
        pending.set(series, Math.min(keep, pending.get(series) ?? Infinity));
      }
      schedule();
    };
    const onSpec = (): void => onReset();
    state.addEventListener('reset', onReset);
    state.addEventListener('delta', onDelta);
    model.on('change:spec', onSpec);
    await redraw();

    return () => {
      closed = true;
      cancelAnimationFrame(frame);
      state.removeEventListener('reset', onReset);
      state.removeEventListener('delta', onDelta);
      model.off('change:status', showStatus);
      model.off('change:spec', onSpec);
      result?.finalize();
    };
  }
};

export default live;
